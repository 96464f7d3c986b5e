"""msys.config(action, word…): the console's ``config`` command from Lua, returning the
option's value and the console's text (lua/ref-msys-config.md, console-commands/config.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from momentum_httpsrv.httpsrv.requests import Request
from momentum_httpsrv.node import MomentumNode

CONFIG_SCRIPT = r"""
local mod = {}
at_init = {}

local function show(...)
  local value, text = msys.config(...)
  if type(value) == "table" then value = "{" .. table.concat(value, ",") .. "}" end
  print(tostring(value) .. "|" .. text)
end

function mod:init()
  -- outside a task: works on the tree being loaded
  local value, text = msys.config("get", "domain", "yahoo.com", "max_outbound_connections")
  at_init = { value, text }
  return true
end

function mod:rsrc_setup()
  msys.registerControl("cfg", function(cc)
    local words = {}
    for i = 1, cc.argc - 1 do words[i] = cc.argv[i] end
    show(unpack(words))
  end)
  msys.httpsrv.register("GET", "/mob", function(session)
    local mob, tmob = msys.config("get", "max_outbound_connections")
    local ymob, tymob = msys.config("get", "domain", "yahoo.com", "max_outbound_connections")
    session:response_status_set_std(200, "OK", "text/plain")
    session:response_append(tostring(mob) .. "|" .. tmob .. tostring(ymob) .. "|" .. tymob)
  end)
  return true
end
msys.registerModule("config_site", mod)
"""


@pytest.fixture
def node(tmp_path: Path):
    (tmp_path / "config_site.lua").write_text(CONFIG_SCRIPT)
    config = tmp_path / "ecelerity.conf"
    config.write_text(
        "Max_Outbound_Connections = 100\n"
        'Domain "yahoo.com" { Max_Outbound_Connections = 20 }\n'
        "httpsrv {}\n"
        'scriptlet "scriptlet" { script "config_site" { source = "config_site" } }\n'
    )
    started = MomentumNode(config)
    started.start()
    yield started
    started.stop()


def test_get_returns_the_value_and_the_console_text(node: MomentumNode) -> None:
    assert node.console("cfg get max_outbound_connections") == (
        "100|Max_Outbound_Connections = 100\n\n"
    )
    assert node.console("cfg get domain yahoo.com max_outbound_connections") == (
        "20|        Max_Outbound_Connections = 20\n\n"
    )


def test_a_handler_gets_the_documented_pair_of_pairs(node: MomentumNode) -> None:
    response = node.call(Request("GET", "/mob", "1.1", [("Host", "x")], b""))
    assert response.body == (
        b"100|Max_Outbound_Connections = 100\n20|        Max_Outbound_Connections = 20\n"
    )


def test_init_reads_the_configuration_being_loaded(node: MomentumNode) -> None:
    assert node.console("scriptlet eval at_init[1], at_init[2]") == (
        "20\t        Max_Outbound_Connections = 20\n\n"
    )


def test_results_match_the_console_command(node: MomentumNode) -> None:
    for words in (
        "get blackhole",
        "eval blackhole",
        "eval domain yahoo.com suspend_delivery",
        "get domain nosuch.example retries",
        "show domain yahoo.com",
    ):
        value_and_text = node.console(f"cfg {words}")
        assert value_and_text.split("|", 1)[1] == node.console(f"config {words}") + "\n"


def test_set_and_unset_change_the_running_configuration(node: MomentumNode) -> None:
    assert node.console("cfg set suspend_delivery true") == "true|Suspend_Delivery = true\n\n"
    assert node.console("config get suspend_delivery") == "Suspend_Delivery = true\n"
    assert node.console("cfg set relay_hosts ( 10.0.0.1 10.0.0.2 )") == (
        "{10.0.0.1,10.0.0.2}|Relay_Hosts = (\n  10.0.0.1\n  10.0.0.2\n)\n\n"
    )
    assert node.console("cfg unset domain yahoo.com max_outbound_connections") == (
        '100|"Max_Outbound_Connections" has been unset. Effective value is now:\n'
        "        Max_Outbound_Connections = 100\n\n"
    )
    # rsrc_setup ran again: the command is still there
    assert node.console("cfg get suspend_delivery").startswith("true|")


def test_validation_errors_are_returned_not_raised(node: MomentumNode) -> None:
    reply = node.console("cfg set suspend_delivery maybe")
    assert reply.startswith("nil|Reconfigure failed: ")
    assert "Suspend_Delivery" in reply
    assert node.console("config get suspend_delivery").startswith("Option ")
    assert node.console("cfg set nosuch.scope x y z") == "nil|No such scope: 'nosuch.scope x'\n\n"
    assert node.console("cfg frob") == "nil|" + node.console("config frob") + "\n"


def test_bad_arguments_raise_like_other_msys_functions(node: MomentumNode) -> None:
    reply = node.console("scriptlet eval msys.config(1)")
    assert "bad argument #1 to 'config' (string expected, got number)" in reply
    reply = node.console("scriptlet eval msys.config('get', {})")
    assert "bad argument #2 to 'config' (string expected, got table)" in reply


def test_usage_errors_come_back_as_the_consoles_text(node: MomentumNode) -> None:
    """The console's usage lines hold characters a Lua string cannot (``…``): they come back
    as ec_console shows them, never as an exception in the host."""
    for action in ("get", "eval", "set", "unset"):
        reply = node.console(f"cfg {action}")
        assert reply.startswith(f"nil|Usage: config {action} [scope ?] option"), reply
    assert node.console("scriptlet eval msys.config('set', 'ehlo_hostname')").startswith(
        "nil\tUsage: config set [scope ?] option"
    )


def test_each_argument_is_one_word_whatever_it_holds(node: MomentumNode) -> None:
    """A value word with ``#``, ``=`` or a quote is set as given, not cut at a comment."""
    assert node.console("scriptlet eval msys.config('set', 'ehlo_hostname', 'a#b=c')") == (
        'a#b=c\tEHLO_Hostname = "a#b=c"\n\n'
    )
    assert node.console("config get ehlo_hostname") == 'EHLO_Hostname = "a#b=c"\n'
    assert node.console("""scriptlet eval (msys.config('set', 'ehlo_hostname', 'say "hi"'))""") == (
        'say "hi"\n'
    )


def test_a_refused_change_returns_no_value(node: MomentumNode) -> None:
    """set/unset that the console refuses return nil with its text, even where the option
    keeps an earlier value."""
    node.console("config set suspend_delivery true")
    reply = node.console("cfg set suspend_delivery maybe")
    assert reply.startswith("nil|Reconfigure failed: ")
    assert node.console("config get suspend_delivery") == "Suspend_Delivery = true\n"
    reply = node.console("cfg unset domain yahoo.com suspend_delivery")
    assert reply == "nil|Option 'Suspend_Delivery' is not set in scope 'domain yahoo.com'.\n\n"
