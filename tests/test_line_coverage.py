"""Lua line coverage: which lines of each loaded script ran, in the thrLua source's own
line numbers, across load, init/rsrc_setup, requests, console commands and timers; the
reports (terminal, Cobertura XML, HTML); and no hook at all while coverage is off."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from momentum_httpsrv.httpsrv.requests import Request
from momentum_httpsrv.lua import coverage
from momentum_httpsrv.lua.runtime import LuaState
from momentum_httpsrv.node import MomentumNode

pytest_plugins = ["pytester"]

SCRIPT = """\
require("msys.extended.httpsrv")
local mod = {}
local ticks = 0
function mod:init()
  return true
end
local function hello(session)
  if session:request_method_get() == "POST" then
    session:response_status_set_std(201, "posted", "text/plain")
  else
    session:response_status_set_std(200, "hello", "text/plain")
  end
end
local function command(cc)
  print("tick " .. ticks)
end
function mod:rsrc_setup()
  msys.httpsrv.register(nil, "/hello", hello)
  msys.registerControl("ticks", command)
  mod.timer = msys.timer.after(0, function()  -- kept: a collected timer never fires
    ticks = ticks + 1; print("timer fired")
  end)
  return true
end
local function never_called()
  local x = 1 | 2
  return x != 3
end
msys.registerModule("cov", mod)
"""
# 1-based lines of SCRIPT by role
INIT, POST, GET, COMMAND, TIMER, NEVER = 5, 9, 11, 15, 21, 26


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "cov.lua").write_text(SCRIPT)
    (tmp_path / "ecelerity.conf").write_text(
        'HTTP_Listener { Listen "127.0.0.1:0" {} }\n'
        'scriptlet "scriptlet" { script "cov" { source = "cov" } }\n'
    )
    return tmp_path


@pytest.fixture
def collector():
    collector = coverage.start_line_coverage()
    yield collector
    coverage.stop_line_coverage()


def test_code_lines_come_from_the_bytecode_of_every_function():
    state = LuaState()
    source = "local a = 1\n\nlocal function f()\n  -- comment\n  return a\nend\nreturn f\n"
    dumped = state.lua.eval(f"string.dump(loadstring({source!r}))")
    assert coverage.code_lines(dumped.encode("latin-1")) == {1, 5, 6, 7}


def test_comment_lines_never_count_even_where_the_translator_adds_its_prelude(tmp_path, collector):
    script = tmp_path / "bits.lua"
    script.write_text("-- uses thrLua's | (the translator adds its helper prelude to line 1)\n"
                      "local x = 1\n"
                      "return x | 2\n")
    state = LuaState()
    state.execute_file(script)
    collector.harvest(state)
    entry = collector.files[script.resolve()]
    assert entry.lines == [2, 3] and entry.missed == []


def test_lines_run_everywhere_a_site_runs_lua_are_counted(site, collector):
    node = MomentumNode(site / "ecelerity.conf", paniclog_path=site / "paniclog.ec")
    node.start()

    async def serve_a_while() -> str:
        node.generation.lua.msys_async.start()  # timers start as serve starts them
        for _ in range(1000):  # the timer fires on the next loop turns
            if "timer fired" in node.paniclog.text():
                break
            await asyncio.sleep(0.01)
        reply = await node.run_console("ticks")
        response = await node.handle(Request("GET", "/hello", "1.1", [("Host", "x")], b""))
        assert response.status == 200
        return reply

    assert asyncio.run(serve_a_while()).strip() == "tick 1"
    node.stop()
    entry = collector.files[(site / "cov.lua").resolve()]
    hits = entry.hits
    assert hits[INIT] == 1 and hits[GET] == 1 and hits[COMMAND] == 1 and hits[TIMER] == 1
    assert POST in entry.missed and NEVER in entry.missed and NEVER + 1 in entry.missed
    assert 2 not in entry.lines or hits.get(2)  # no comment or blank line counts as missed
    assert {3, 16}.isdisjoint(entry.missed)


# Whether the line hook runs in the task's coroutine (the hooks table's probe is passed
# in: a script's own debug.gethook never shows the emulator's hook).
LINE_HOOK_PROBE = "local line_hooked = ...; return line_hooked(coroutine.running())"


def test_no_line_hook_runs_while_coverage_is_off():
    state = LuaState()
    assert state.line_coverage is None
    assert state.hooks.line_hooked() is False
    chunk = state.compile(LINE_HOOK_PROBE, "=task")
    assert asyncio.run(state.run_in_task(chunk, state.hooks.line_hooked)) == (False,)


def test_coverage_hooks_every_task_when_on(collector):
    state = LuaState()
    chunk = state.compile(LINE_HOOK_PROBE, "=task")
    assert asyncio.run(state.run_in_task(chunk, state.hooks.line_hooked)) == (True,)


def test_call_with_coverage_writes_cobertura_and_html(site):
    xml_path = site / "out" / "lua.xml"
    result = subprocess.run(
        [sys.executable, "-m", "momentum_httpsrv.cli", "call", "-c", "ecelerity.conf",
         "--coverage", str(xml_path), "POST", "/hello"],
        cwd=site, capture_output=True, text=True, timeout=120,
    )
    assert result.stdout.startswith("HTTP/1.1 201"), result.stderr
    assert "cov.lua" in result.stderr and "TOTAL" in result.stderr
    lines = {
        int(line.get("number")): int(line.get("hits"))
        for line in ElementTree.parse(xml_path).iter("line")
    }
    assert lines[POST] == 1 and lines[GET] == 0 and lines[NEVER] == 0
    (cls,) = ElementTree.parse(xml_path).iter("class")
    assert cls.get("filename") == "cov.lua"
    page = (site / "out" / "lua-html" / "script1.html").read_text()
    assert f'<tr class="missed" id="L{GET}">' in page
    assert f'<tr class="run" id="L{POST}">' in page
    assert f'<tr class="text" id="L{INIT - 1}">' not in page  # line 4 holds code
    index = (site / "out" / "lua-html" / "index.html").read_text()
    assert 'href="script1.html">cov.lua</a>' in index


def test_pytest_momentum_cov_reports_the_scripts_the_tests_ran(pytester, site):
    for name in ("cov.lua", "ecelerity.conf"):
        (pytester.path / name).write_text((site / name).read_text())
    pytester.makepyfile(test_site="""
        def test_get(momentum_site):
            assert momentum_site("ecelerity.conf").get("/hello").status == 200
    """)
    result = pytester.runpytest_subprocess("--momentum-cov", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*Lua line coverage*", "cov.lua *%*", "TOTAL*"])
    xml_path = pytester.path / "momentum-coverage" / "coverage.xml"
    hits = {int(e.get("number")): int(e.get("hits"))
            for e in ElementTree.parse(xml_path).iter("line")}
    assert hits[GET] == 1 and hits[POST] == 0
    assert (pytester.path / "momentum-coverage" / "html" / "index.html").is_file()


def test_counts_stay_with_the_file_when_the_directory_changes(tmp_path, collector, monkeypatch):
    (tmp_path / "rel.lua").write_text("local a = 1\nreturn a\n")
    monkeypatch.chdir(tmp_path)
    state = LuaState()
    state.execute_file(Path("rel.lua"))
    monkeypatch.chdir(Path(__file__).parent)
    collector.harvest(state)
    assert collector.files[tmp_path / "rel.lua"].hits == {1: 1, 2: 1}


def test_only_the_users_script_files_are_reported(tmp_path, collector):
    (tmp_path / "uses_more.lua").write_text('require("Test.More")\nplan(1)\nok(true)\n')
    state = LuaState([tmp_path], print_sink=lambda text: None)
    state.execute_file(tmp_path / "uses_more.lua")
    state.execute('return 1', "@not_a_file.lua")
    collector.harvest(state)
    assert list(collector.files) == [tmp_path / "uses_more.lua"]


def test_a_command_without_coverage_leaves_pytest_coverage_running(site, collector):
    from click.testing import CliRunner

    from momentum_httpsrv.cli import main

    result = CliRunner().invoke(main, ["call", "-c", str(site / "ecelerity.conf"), "GET", "/hello"])
    assert result.exit_code == 0, result.output
    assert coverage.attach_if_active(LuaState()) is not None
    assert collector.files[(site / "cov.lua").resolve()].hits[GET] == 1


def test_lines_are_counted_in_their_own_file_across_errors_calls_and_coroutine_switches(
    tmp_path, collector
):
    """The hook looks the running function up only after a call or a return: a caught
    error, a yield and a resume must each hand the count back to the right file."""
    (tmp_path / "b.lua").write_text(
        "local b = {}\nfunction b.fail()\n  error('boom')\nend\n"
        "function b.pause()\n  coroutine.yield()\n  return 1\nend\nreturn b\n")
    (tmp_path / "a.lua").write_text(
        'local b = require("b")\nlocal ok = pcall(b.fail)\nlocal x = 1\n'
        "local co = coroutine.wrap(function()\n  b.pause()\n  return 2\nend)\n"
        "co()\nx = x + 1\nco()\nreturn x\n")
    state = LuaState([tmp_path], print_sink=lambda text: None)
    assert state.execute_file(tmp_path / "a.lua") == (2,)
    collector.harvest(state)
    assert collector.files[tmp_path / "a.lua"].hits == {line: 1 for line in range(1, 12)} | {4: 2}
    assert collector.files[tmp_path / "b.lua"].hits == {line: 1 for line in range(1, 10)}


def test_the_html_page_numbers_lines_as_lua_does(tmp_path, collector):
    """Lua ends a line only at \\n or \\r: a form feed or U+2028 in a comment starts no
    new line, and \\r\\n is one line break."""
    from momentum_httpsrv.testing.coverage_report import write_html

    script = tmp_path / "paged.lua"
    script.write_bytes("-- page one\x0cpage two \u2028 still line 1\r\nlocal x = 1\r\n"
                       "return x\r\n".encode())
    state = LuaState()
    state.execute_file(script)
    collector.harvest(state)
    write_html(collector, tmp_path / "html", tmp_path)
    page = (tmp_path / "html" / "script1.html").read_text()
    assert '<tr class="run" id="L2"><td class="number">2</td><td class="mark"></td>' \
        '<td class="count">1</td><td>local x = 1</td></tr>' in page
    assert 'id="L4"' not in page
