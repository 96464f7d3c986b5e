"""``serve --reload`` rebuilds the generation when the configuration, an include or a
loaded script changes (a broken edit keeps the old one serving), and ``--access-log``
writes one Common Log Format line per request."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

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
        log = stderr_until(process, r"reload failed; still serving generation 2")
        assert "hi.lua:6:" in log
        assert get(port, "/hi") == (200, "two")

        (tmp_path / "hi.lua").write_text(GREETING.replace('"/hi"', '"/hello"'))
        stderr_until(process, r"reloaded: generation 3")
        assert get(port, "/hello") == (200, "two") and get(port, "/hi")[0] == 404

        (tmp_path / "listen.conf").write_text(  # an include: rebuilt (listeners stay bound)
            'HTTP_Listener { Listen "127.0.0.1:0" {} }\nNo_Such_Option = 1\n')
        log = stderr_until(process, r"reloaded: generation 4")
        assert "listen.conf:2:1: warning: unknown option" in log


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
