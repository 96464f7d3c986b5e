"""The console pipeline in process: tokenizing, framing, msys.registerControl, built-ins."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from momentum_httpsrv.console.protocol import (
    CommandSyntaxError,
    encode_command,
    encode_reply,
    read_command,
    split_command,
)
from momentum_httpsrv.node import MomentumNode

CONSOLE_SCRIPT = r"""
require("msys.core")
local mod = {}

local function delay_domain(cc)
  if cc.argc < 2 then
    print("usage: delay_domain <domain>")
    return
  end
  local domain = cc.argv[1]
  local dr = msys.core.dns_get_domain(domain)
  if dr ~= nil then
    msys.core.mail_queue_delay_domain(dr, "451 4.4.1 held for a test")
    print(domain, "added to the delayed queue.")
  end
end

setup_runs = 0

function mod:rsrc_setup()
  setup_runs = setup_runs + 1
  msys.httpsrv.register("GET", "/hello", function(session)
    session:response_status_set_std(200, "OK", "text/plain")
    session:response_append("hello")
  end)
  msys.registerControl("delay_domain", delay_domain)
  msys.registerControl("beyond", function(cc) print("reading"); print(cc.argv[5]) end)
  msys.registerControl("show", function(cc) print("lua show", cc.argc) end)
  msys.registerControl("args", function(cc)
    for i = 0, cc.argc - 1 do print(i, cc.argv[i]) end
    print("xml", cc.xml, #cc.argv)
  end)
  msys.registerControl("args long", function(cc) print("long form", cc.argc) end)
  msys.registerControl("nap", function(cc)
    msys.sleep(tonumber(cc.argv[1]))
    print("rested")
  end)
  return true
end

msys.registerModule("console_site", mod)
"""


def write_site(directory: Path, script: str = CONSOLE_SCRIPT, extra: str = "") -> Path:
    """An ecelerity.conf with one script module, in ``directory``."""
    (directory / "console_site.lua").write_text(script, encoding="latin-1")
    config = directory / "ecelerity.conf"
    config.write_text(
        'httpsrv {}\n'
        'ec_logger "ec_logger_rt" { paniclog = "paniclog.ec" }\n'
        f"{extra}\n"
        'scriptlet "scriptlet" {\n'
        '  script "console_site" { source = "console_site" }\n'
        "}\n"
    )
    return config


@pytest.fixture
def node(tmp_path: Path):
    started = MomentumNode(write_site(tmp_path, extra='Domain "example.net" { retries = 3 }'))
    started.start()
    yield started
    started.stop()


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("", []),
        ("  delay_domain   example.com ", ["delay_domain", "example.com"]),
        ('delay_domain "example.com"', ["delay_domain", "example.com"]),
        ('say "two words" after', ["say", "two words", "after"]),
        ('a"b c"d', ["ab cd"]),
        ('q "with \\"quote\\" and \\\\"', ["q", 'with "quote" and \\']),
        ('empty ""', ["empty", ""]),
        ("tab\tseparated", ["tab", "separated"]),
    ],
)
def test_split_command(line: str, words: list[str]) -> None:
    assert [word.text for word in split_command(line)] == words


def test_split_command_keeps_word_positions() -> None:
    assert [w.start for w in split_command('config set  x "a b"')] == [0, 7, 12, 14]


def test_unterminated_quote_is_an_error() -> None:
    with pytest.raises(CommandSyntaxError, match="unterminated quote"):
        split_command('delay_domain "example.com')


def test_framing_round_trip() -> None:
    assert encode_reply("h\xe9llo\n") == b"6\nh\xe9llo\n"
    assert encode_command("version") == b"version\n"
    with pytest.raises(CommandSyntaxError):
        encode_command("two\nlines")

    async def read(data: bytes) -> list[str | None]:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return [await read_command(reader), await read_command(reader)]

    assert asyncio.run(read(b"pid\r\nversion\n")) == ["pid", "version"]
    assert asyncio.run(read(b"pid\n")) == ["pid", None]


def test_delay_domain_end_to_end(node: MomentumNode) -> None:
    reply = node.console('delay_domain "Example.com"')
    assert reply == "Example.com\tadded to the delayed queue.\n"
    assert node.console("delayed").startswith("Domain:                    example.com  C:")
    assert "        Delayed:         1\n" in node.console("domain example.com")
    assert "        Delayed:         0\n" in node.console("domain example.org")
    assert "retries = 3" in node.console("domain example.net")


def test_command_without_argument_prints_its_usage(node: MomentumNode) -> None:
    assert node.console("delay_domain") == "usage: delay_domain <domain>\n"
    assert node.console("delay_domain not_a..domain") == ""
    assert node.console("delayed").lstrip().startswith("Total:  C:  0")


def test_reading_argv_past_argc_is_a_reported_error(node: MomentumNode) -> None:
    reply = node.console("beyond one")
    assert reply.startswith("reading\n")
    assert "cc.argv index 5 out of range (argc=2)" in reply
    assert "stack traceback" in node.paniclog.text()
    assert node.console("pid").strip().isdigit()  # the node carries on


def test_argv_is_zero_based_and_xml_prefix_sets_cc_xml(node: MomentumNode) -> None:
    assert node.console('args "a b" c') == "0\targs\n1\ta b\n2\tc\nxml\t0\t3\n"
    assert node.console("xml args") == "0\targs\nxml\t1\t1\n"


def test_longest_prefix_wins_and_builtins_win_ties(node: MomentumNode) -> None:
    assert node.console("args long x") == "long form\t3\n"
    assert node.console("config show httpsrv") == ""  # built-in `config show`, not Lua `show`
    assert node.console("show x") == "lua show\t2\n"


def test_unknown_command_is_one_line(node: MomentumNode) -> None:
    reply = node.console("frobnicate now")
    assert reply.count("\n") == 1 and "Unknown command: 'frobnicate'" in reply
    assert "'config' takes one of" in node.console("config frob")


def test_help_lists_builtins_and_registered_commands(node: MomentumNode) -> None:
    reply = node.console("help")
    for name in ("config reload", "delay_domain", "scriptlet eval", "shutdown", "args long"):
        assert f"  {name} " in reply
    assert "registered by a Lua script" in node.console("help delay_domain")
    assert node.console("help config reload").startswith("config reload [path]")


def test_scriptlet_eval(node: MomentumNode) -> None:
    assert node.console("scriptlet eval 1 + 1, setup_runs") == "2\t1\n"
    assert node.console("scriptlet eval x = 41; print(x + 1)") == "42\n"
    assert "boom" in node.console("scriptlet eval error('boom')")


def test_version_pid_sysinfo_module_list_paniclog(node: MomentumNode) -> None:
    assert "# ecelerity version: " in node.console("version")
    assert node.console("sysinfo").startswith("Ecelerity Version: ")
    modules = node.console("module list")
    assert "Module: scriptlet:scriptlet\n" in modules and "Module: httpsrv\n" in modules
    node.paniclog.warn("a warning for the console")
    assert "[warning] a warning for the console" in node.console("paniclog 5")


def test_config_get_eval_set_unset(node: MomentumNode) -> None:
    assert node.console("config get domain example.net retries") == "        retries = 3\n"
    assert node.console("config get domain example.net nosuch") == (
        "Option 'nosuch' is not set in scope 'domain example.net'.\n"
    )
    assert node.console("config set domain example.net retries = 5") == "retries = 5\n"
    assert node.console("config eval domain example.net retries") == "        retries = 5\n"
    assert node.console('config set domain example.net note "a b"') == 'note = "a b"\n'
    reply = node.console("config unset domain example.net note")
    assert reply.startswith('"note" has been unset. Effective value is now:')
    assert "note" not in node.console("config show domain example.net")
    assert 'Domain "example.net" { ... }' in node.console("config show")
    assert "retries = 5" in node.console("config showrecurse")


def test_config_set_reruns_rsrc_setup_and_keeps_commands(node: MomentumNode) -> None:
    before = node.generation
    node.console("config set domain example.net retries 4")
    assert node.generation is not before and node.generation.lua is before.lua
    assert node.console("scriptlet eval setup_runs") == "2\n"
    assert node.console("delay_domain a.example").endswith("added to the delayed queue.\n")


def test_reload_swaps_generation_and_keeps_the_queue(node: MomentumNode, tmp_path: Path) -> None:
    node.console("delay_domain kept.example")
    first = node.generation
    script = CONSOLE_SCRIPT.replace('print(domain, "added', 'print("v2", domain, "added')
    write_site(tmp_path, script)
    assert node.console("config reload").startswith("Configuration reloaded (generation")
    assert node.generation is not first and node.generation.lua is not first.lua
    assert node.console("delay_domain b.example").startswith("v2\tb.example")
    assert "kept.example" in node.console("delayed")


@pytest.mark.parametrize(
    ("script", "conf_extra", "cause"),
    [
        ("local x = = 1", "", "unexpected symbol"),
        ("error('top level boom')", "", "top level boom"),
        ("msys.registerModule('m', { init = function() return false end })", "", "init"),
        (CONSOLE_SCRIPT, "httpsrv {", "console_site"),
    ],
)
def test_failed_reload_leaves_the_running_generation(
    node: MomentumNode, tmp_path: Path, script: str, conf_extra: str, cause: str
) -> None:
    running = node.generation
    write_site(tmp_path, script, conf_extra)
    if conf_extra:  # a syntax error names the file; the unclosed scope is at the end
        cause = "ecelerity.conf"
    reply = node.console("config reload")
    assert reply.startswith("Reconfigure failed: ") and cause in reply
    assert node.generation is running
    assert node.console("delay_domain c.example").endswith("added to the delayed queue.\n")


def test_an_error_while_printing_an_eval_result_is_the_reply(node: MomentumNode) -> None:
    reply = node.console(
        'scriptlet eval return setmetatable({}, {__tostring = function() error("boom") end})'
    )
    assert "boom" in reply
    assert node.console("scriptlet eval 1 + 1") == "2\n"


NESTED_PRINT_SCRIPT = CONSOLE_SCRIPT.replace("  return true\nend", r"""
  msys.registerControl("nested", function(cc)
    print("before")
    msys.runInPool("IO", function() print("pool") end)
    coroutine.wrap(function() print("wrapped") end)()
    local co = coroutine.create(function() print("created") end)
    coroutine.resume(co)
    msys.runInPool("IO", function() msys.sleep(0.01) print("job") end, true)
    print("after")
  end)
  return true
end""", 1)


def test_print_from_coroutines_a_command_starts_is_in_its_reply(tmp_path: Path) -> None:
    started = MomentumNode(write_site(tmp_path, NESTED_PRINT_SCRIPT))
    started.start()
    try:
        assert started.console("nested") == "before\npool\nwrapped\ncreated\nafter\njob\n"
        assert "job" not in (tmp_path / "paniclog.ec").read_text()
    finally:
        started.stop()


def test_config_set_does_not_accumulate_commands(node: MomentumNode) -> None:
    for retries in range(20):
        node.console(f"config set domain example.net retries {retries}")
    assert node.generation.control.registered_commands() <= 2 * 6
    assert node.console("show").startswith("lua show")


def test_a_failing_yield_service_is_an_error_reply_not_a_dropped_connection(tmp_path):
    from momentum_httpsrv.node import MomentumNode

    config = tmp_path / "ecelerity.conf"
    config.write_text('scriptlet "scriptlet" { script "boot" { source = "msys.boot" } }\n')
    node = MomentumNode(config)
    node.start()
    try:
        reply = node.console('scriptlet eval coroutine.yield("sleep", "abc")')
        assert "sleep:" in reply and "abc" in reply
        assert node.console("scriptlet eval return 1 + 1").strip() == "2"
    finally:
        node.stop()
