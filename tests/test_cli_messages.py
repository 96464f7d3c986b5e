"""What a new user sees on the terminal: one line per problem with the documented exit
status, no doubled prefixes, no warning for what is accepted, the user's own file names
and lines in Lua errors, and the characters they typed."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from momentum_httpsrv.cli import EXIT_CONFIG, EXIT_LISTEN, main

HELLO = """\
require("msys.extended.httpsrv")
local mod = {}
local function fail(t)
  return t.missing.field
end
function mod:rsrc_setup()
  msys.httpsrv.register("GET", "/fail", function(s) fail({}) end)
  msys.httpsrv.register("GET", "/bits", function(s)
    local x = 6 | 1
    s:response_status_set_std(200, tostring(x != 7), "text/plain")
  end)
  return true
end
msys.registerModule("hello", mod)
"""


def write_site(directory: Path, listen: str = "127.0.0.1:0", script: str = HELLO) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "hello.lua").write_text(script)
    config = directory / "ecelerity.conf"
    config.write_text(
        f'HTTP_Listener {{ Listen "{listen}" {{}} }}\n'
        'scriptlet "scriptlet" {\n'
        '  script "boot" { source = "msys.boot" }\n'
        '  script "hello" { source = "hello" }\n'
        "}\n"
    )
    return config


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``serve`` as a real process (signals, ports)."""
    return subprocess.run(
        [sys.executable, "-m", "momentum_httpsrv.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def cli(monkeypatch):
    """``cli(*args, cwd=…)``: the command in-process (click's runner), from ``cwd``."""

    def invoke(*args: str, cwd: Path) -> Result:
        monkeypatch.chdir(cwd)
        return CliRunner().invoke(main, list(args))

    return invoke


def test_a_busy_port_is_one_line_naming_the_address_with_its_exit_status(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        result = run_cli("serve", "-c", str(write_site(tmp_path, address)), cwd=tmp_path)
    assert result.returncode == EXIT_LISTEN
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and address in lines[0] and "in use" in lines[0], result.stderr


def test_configuration_errors_and_usage_errors_have_distinct_exit_statuses(tmp_path):
    config = tmp_path / "ecelerity.conf"
    config.write_text("HTTP_Listener {\n")
    runner = CliRunner()
    broken = runner.invoke(main, ["check", "-c", str(config)])
    assert broken.exit_code == EXIT_CONFIG, broken.output
    assert "ecelerity.conf:" in broken.stderr
    usage = runner.invoke(main, ["check", "--no-such-option"])
    assert usage.exit_code == 2 and EXIT_CONFIG != 2


def test_a_missing_default_configuration_says_how_to_name_one(cli, tmp_path):
    result = cli("check", cwd=tmp_path)
    assert result.exit_code == EXIT_CONFIG
    assert result.stderr.count("\n") == 1, result.stderr
    assert "-c" in result.stderr and "ecelerity.conf" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_ecelerity_conf_in_the_current_directory_is_the_default(cli, tmp_path):
    write_site(tmp_path)
    result = cli("check", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "ecelerity.conf: configuration OK" in result.stderr


def test_msys_boot_is_accepted_without_a_warning(cli, tmp_path):
    result = cli("check", "-c", str(write_site(tmp_path)), cwd=tmp_path)
    assert result.exit_code == 0
    assert result.stderr.strip() == f"{tmp_path / 'ecelerity.conf'}: configuration OK"
    assert "msys.boot" not in (tmp_path / "paniclog.ec").read_text()


def test_warnings_carry_their_prefixes_once(cli, tmp_path):
    config = write_site(tmp_path)
    config.write_text(config.read_text() + "No_Such_Option = 1\n")
    (tmp_path / "empty.lua").write_text('msys.registerModule("empty", {})\n')
    config.write_text(config.read_text().replace(
        '  script "hello"', '  script "empty" { source = "empty" }\n  script "hello"'))
    result = cli("check", "-c", str(config), cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "ecelerity.conf:7:1: warning: unknown option" in result.stderr
    assert "warning: no usable methods found for module empty" in result.stderr
    assert result.stderr.count("warning:") == 2
    paniclog = (tmp_path / "paniclog.ec").read_text()
    assert ":scriptlet: no usable methods" in paniclog
    assert "scriptlet: scriptlet:" not in paniclog


def test_lua_errors_name_the_script_and_its_own_line_without_package_frames(cli, tmp_path):
    write_site(tmp_path)
    result = cli("call", "GET", "/fail", cwd=tmp_path)
    assert result.stdout.startswith("HTTP/1.1 500")
    assert "error: hello.lua:4: attempt to index field 'missing'" in result.stderr
    assert "hello.lua:7:" in result.stderr  # the handler's frame, in the user's terms
    assert "momentum_httpsrv" not in result.stderr and "..." not in result.stderr
    assert "[momentum-httpsrv]" not in result.stderr


def test_thrlua_operators_keep_the_scripts_line_numbers(cli, tmp_path):
    script = HELLO.replace("local x = 6 | 1", "local x = 6 | nil")
    write_site(tmp_path, script=script)
    result = cli("call", "GET", "/bits", cwd=tmp_path)
    assert "hello.lua:9:" in result.stderr, result.stderr


def test_a_curly_quote_is_reported_as_itself(cli, tmp_path):
    config = write_site(tmp_path, script="local greeting = \u2019hello\u2019\n")
    result = cli("check", "-c", str(config), cwd=tmp_path)
    assert result.exit_code == EXIT_CONFIG
    assert "hello.lua:1: unexpected symbol near '\u2019' (U+2019)" in result.stderr
    assert "\u00e2" not in result.stderr


@pytest.mark.parametrize(("listeners", "expected"), [
    ('Control_Listener { Listen "{sock}" {} }\n',
     "no enabled HTTP_Listener Listen scope: serving the console only"),
    ("", "no enabled HTTP_Listener or Control_Listener Listen scope: only the scripts' timers run"),
])
def test_serve_says_what_it_serves_and_when_it_stops(tmp_path, listeners, expected):
    config = tmp_path / "ecelerity.conf"
    config.write_text(listeners.replace("{sock}", str(tmp_path / "console.sock"))
                      + 'scriptlet "scriptlet" { script "boot" { source = "msys.boot" } }\n')
    process = subprocess.Popen(
        [sys.executable, "-m", "momentum_httpsrv.cli", "serve", "-c", str(config)],
        stderr=subprocess.PIPE, text=True,
    )
    assert process.stderr is not None
    try:
        seen = [process.stderr.readline() for _ in range(1 + bool(listeners))]
        assert expected in seen[-1], seen
    finally:
        process.terminate()
        _, rest = process.communicate(timeout=30)
    assert "shutting down (SIGTERM)" in rest and rest.rstrip().endswith("stopped"), rest
    assert process.returncode == 0



def test_an_unwritable_access_log_or_coverage_file_is_a_usage_error(cli, tmp_path):
    config = write_site(tmp_path)
    not_a_directory = tmp_path / "plain-file"
    not_a_directory.write_text("")
    for args, option in (
        (["serve", "-c", str(config), "--access-log", str(not_a_directory / "a.log")],
         "--access-log"),
        (["call", "-c", str(config), "--coverage", str(not_a_directory / "cov.xml"),
          "GET", "/bits"], "--coverage"),
    ):
        result = cli(*args, cwd=tmp_path)
        assert result.exit_code == 2, (args, result.stderr)
        assert option in result.stderr and "plain-file" in result.stderr, result.stderr
        assert isinstance(result.exception, SystemExit), result.exception
