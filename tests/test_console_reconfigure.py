"""``config set``/``unset``: which scope a line names, and the warning for registrations
that a re-run of ``rsrc_setup`` does not make again (docs/generations.md#config-set-and-unset)."""

from __future__ import annotations

from pathlib import Path

import pytest

from momentum_httpsrv.node import MomentumNode

SCRIPT = """
require("msys.httpsrv")
local function ok(s) s:response_append("ok") end
-- At load time and in init: lost at config set. In rsrc_setup: registered again.
msys.httpsrv.register("GET", "/at-load", ok)
msys.registerControl("loadcmd", function(cc) print("load") end)
local mod = {}
function mod:init()
  msys.httpsrv.register("GET", "/in-init", ok)
  return true
end
function mod:rsrc_setup()
  msys.httpsrv.register("GET", "/in-setup", ok)
  msys.registerControl("setupcmd", function(cc) print("setup") end)
  return true
end
msys.registerModule("reconf", mod)
"""


@pytest.fixture
def node(tmp_path: Path):
    (tmp_path / "reconf.lua").write_text(SCRIPT)
    config = tmp_path / "ecelerity.conf"
    config.write_text(
        'Domain "example.net" { retries = 3 }\n'
        'scriptlet "scriptlet" { script "reconf" { source = "reconf" } }\n'
    )
    node = MomentumNode(config)
    node.start()
    yield node
    node.stop()


LOST = (
    "Warning: no longer registered: endpoint GET /at-load/, endpoint GET /in-init/, "
    "console command 'loadcmd'."
)


def test_config_set_names_the_registrations_it_loses(node: MomentumNode) -> None:
    reply = node.console("config set domain example.net retries 4")
    assert reply.startswith("retries = 4\n" + LOST)
    assert "config: " + LOST in node.paniclog.text()
    assert node.console("loadcmd").startswith("Unknown command")
    assert node.console("setupcmd") == "setup\n"
    # Nothing more is lost the second time: no warning.
    assert node.console("config set domain example.net retries 5") == "retries = 5\n"


def test_config_unset_warns_too(node: MomentumNode) -> None:
    reply = node.console("config unset domain example.net retries")
    assert reply.startswith('"retries" has been unset.') and LOST in reply


@pytest.mark.parametrize(
    ("line", "reply"),
    [
        ("config set a b c d", "No such scope: 'a b'\n"),
        ("config set domain nosuch.example retries 4", "No such scope: 'domain nosuch.example'\n"),
        (
            "config set domain example.net retries 4 5",
            "No such scope: 'domain example.net retries'\n",
        ),
        ("config set retries (", "Reconfigure failed: <value>:1:2: "),  # one bad value
        ("config set retries =", "Usage: config set [scope …] option [=] value\n"),
    ],
)
def test_config_set_reports_the_missing_scope(node: MomentumNode, line: str, reply: str) -> None:
    assert node.console(line).startswith(reply)
    assert node.console("config get domain example.net retries") == "        retries = 3\n"
