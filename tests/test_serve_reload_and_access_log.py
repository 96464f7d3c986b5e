"""``serve --reload`` rebuilds the generation when the configuration, an include or a
loaded script changes (a broken edit keeps the old one serving), and ``--access-log``
writes one Common Log Format line per request."""

from __future__ import annotations

import asyncio
import io
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

from momentum_httpsrv.httpsrv.access_log import AccessLog
from momentum_httpsrv.httpsrv.requests import ConnectionInfo, Request
from momentum_httpsrv.testing.process import serve_process, stderr_until

GREETING = """\
require("msys.extended.httpsrv")
local greeting = require("greeting")
local mod = {}
function mod:rsrc_setup()
  msys.httpsrv.register(nil, "/hi", function(s)
    s:response_status_set_std(200, greeting.text, "text/plain")
  end)
  return true
end
msys.registerModule("hi", mod)
"""


def write_site(directory: Path) -> Path:
    (directory / "hi.lua").write_text(GREETING)
    (directory / "greeting.lua").write_text('return { text = "one" }\n')
    (directory / "listen.conf").write_text('HTTP_Listener { Listen "127.0.0.1:0" {} }\n')
    config = directory / "ecelerity.conf"
    config.write_text('include "listen.conf"\n'
                      'scriptlet "scriptlet" { script "hi" { source = "hi" } }\n')
    return config


def get(port: int, target: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{target}", timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def test_reload_follows_script_module_and_include_edits_and_survives_a_broken_one(tmp_path):
    config = write_site(tmp_path)
    with serve_process(config, 30.0, "--reload") as (process, port):
        stderr_until(process, r"--reload: watching \d+ files")
        assert get(port, "/hi") == (200, "one")
        (tmp_path / "greeting.lua").write_text('return { text = "two" }\n')  # a require'd module
        stderr_until(process, r"reloaded: generation 2")
        assert get(port, "/hi") == (200, "two")

        (tmp_path / "hi.lua").write_text(GREETING.replace("greeting.text", "greeting.txt ..")
                                         )  # a syntax error
        log = stderr_until(process, r"; still serving generation 2\n")
        # one line says it all: the error, and that the old generation serves
        failed = log.partition("; reloading\n")[2]
        assert re.fullmatch(r"error: config reload failed: \S*hi\.lua:6: [^\n]*; still serving "
                            r"generation 2\n", failed), failed
        assert get(port, "/hi") == (200, "two")

        (tmp_path / "hi.lua").write_text(GREETING.replace('"/hi"', '"/hello"'))
        stderr_until(process, r"reloaded: generation 3")
        assert get(port, "/hello") == (200, "two") and get(port, "/hi")[0] == 404

        (tmp_path / "listen.conf").write_text(  # an include: rebuilt (listeners stay bound)
            'HTTP_Listener { Listen "127.0.0.1:0" {} }\nNo_Such_Option = 1\n')
        log = stderr_until(process, r"reloaded: generation 4")
        assert "listen.conf:2:1: warning: unknown option" in log


def test_an_edit_saved_while_a_reload_is_loading_is_reloaded_too(tmp_path):
    """Rapid saves: the second lands while the first one's reload is running its scripts.
    The script of the first save signals that it is loading and waits for a gate file."""
    config = write_site(tmp_path)
    loading, gate = tmp_path / "loading", tmp_path / "gate"
    slow = (f'io.open("{loading}", "w"):close()\n'
            "local deadline = os.time() + 20\n"
            f'while os.time() < deadline and not io.open("{gate}") do end\n')
    with serve_process(config, 30.0, "--reload") as (process, port):
        stderr_until(process, r"--reload: watching \d+ files")
        (tmp_path / "hi.lua").write_text(slow + GREETING.replace("greeting.text", '"two"'))
        deadline = time.monotonic() + 30
        while not loading.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert loading.exists(), "the first save was never reloaded"
        (tmp_path / "hi.lua").write_text(GREETING.replace("greeting.text", '"three"'))
        gate.touch()
        stderr_until(process, r"reloaded: generation 3", timeout=20)
        assert get(port, "/hi") == (200, "three")


def test_the_access_log_has_one_common_log_format_line_per_request(tmp_path):
    config = write_site(tmp_path)
    access_log = tmp_path / "access.log"
    with serve_process(config, 30.0, "--access-log", str(access_log)) as (_process, port):
        assert get(port, "/hi") == (200, "one")
        assert get(port, "/nowhere?x=1")[0] == 404
        head = urllib.request.Request(f"http://127.0.0.1:{port}/hi", method="HEAD")
        with urllib.request.urlopen(head, timeout=10) as answer:
            assert answer.status == 200 and answer.read() == b""
    lines = access_log.read_text().splitlines()
    stamp = r"\[\d\d/\w\w\w/\d{4}:\d\d:\d\d:\d\d \+0000\]"
    assert re.fullmatch(rf'127\.0\.0\.1 - - {stamp} "GET /hi HTTP/1\.1" 200 3 \d+\.\d{{6}}',
                        lines[0]), lines
    assert re.fullmatch(rf'127\.0\.0\.1 - - {stamp} "GET /nowhere\?x=1 HTTP/1\.1" 404 - '
                        r"\d+\.\d{6}", lines[1]), lines
    assert re.fullmatch(rf'127\.0\.0\.1 - - {stamp} "HEAD /hi HTTP/1\.1" 200 - \d+\.\d{{6}}',
                        lines[2]), lines
    assert len(lines) == 3


def test_no_access_log_unless_asked(tmp_path):
    config = write_site(tmp_path)
    with serve_process(config) as (_process, port):
        assert get(port, "/hi") == (200, "one")
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "ecelerity.conf", "greeting.lua", "hi.lua", "listen.conf", "paniclog.ec"]


def test_the_access_log_escapes_what_would_break_a_line_as_apache_does():
    """A target may carry a quote or a backslash (the parser accepts them) or bytes that
    are not printable: escaped (\\" \\\\ \\xhh), so each line keeps its quoted fields."""
    stream = io.StringIO()
    access_log = AccessLog(stream)
    connection = ConnectionInfo(1, "127.0.0.1:0", ("127.0.0.1", 5555), ("127.0.0.1", 80))
    access_log.request(Request("GET", '/a"b\\c\x7f\xe9', "1.1", [], b"", connection),
                       404, 0, 0.5)
    access_log.request(Request("GET", "/plain?x=1", "1.0", [], b"", connection), 200, 3, 0.25)
    first, second = stream.getvalue().splitlines()
    assert first.endswith(' "GET /a\\"b\\\\c\\x7f\\xe9 HTTP/1.1" 404 - 0.500000'), first
    assert second.endswith(' "GET /plain?x=1 HTTP/1.0" 200 3 0.250000'), second


def test_an_access_log_line_reaches_the_file_within_a_second_or_two_while_idle(tmp_path):
    """Lines are buffered, but one written just after a flush must not wait for the next
    request (``tail -f`` on a quiet server) or for shutdown."""
    path = tmp_path / "access.log"
    connection = ConnectionInfo(1, "127.0.0.1:0", ("127.0.0.1", 5555), ("127.0.0.1", 80))

    async def two_requests_then_idle() -> list[str]:
        access_log = AccessLog.open(str(path))
        for target in ("/first", "/second"):
            access_log.request(Request("GET", target, "1.1", [], b"", connection), 200, 1, 0.1)
        deadline = time.monotonic() + 10
        while len(path.read_text().splitlines()) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        lines = path.read_text().splitlines()
        access_log.close()
        return lines

    assert len(asyncio.run(two_requests_then_idle())) == 2
