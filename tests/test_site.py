"""The foundation issue's acceptance: one site answers the same offline (in-process and
`call`) and over real HTTP (`serve`), and survives handler errors."""

from __future__ import annotations

import http.client
import re

import pytest
from click.testing import CliRunner

from momentum_httpsrv.cli import EXIT_CONFIG, main
from momentum_httpsrv.testing.client import MomentumTestClient
from momentum_httpsrv.testing.process import serve_process

BINARY = bytes(range(256)) + b"\x00\xff\x00"

# (method, target, body) → (status, body)
CASES = [
    ("POST", "/hello", b"", 200, b"/hello says: Hello world!"),
    ("POST", "/hello?x=1", b"", 200, b"/hello?x=1 says: Hello world!"),
    ("GET", "/hello", b"", 200, b"/hello says: Hello world!"),  # registered by name
    ("POST", "/hello/", b"", 200, b"/hello/ says: Hello world!"),  # trailing slash
    ("POST", "/hello/deeper", b"", 200, b"/hello/deeper says: Hello world!"),
    ("PUT", "/hello", b"", 404, b""),  # unregistered method
    ("POST", "/helloworld", b"", 404, b""),  # not a child of /hello
    ("GET", "/any", b"", 200, b"any GET"),  # method nil: every method
    ("DELETE", "/any/x", b"", 200, b"any DELETE"),
    ("PATCH", "/any", b"", 200, b"any PATCH"),
    ("POST", "/echo", BINARY, 200, BINARY),  # binary body byte for byte
    ("GET", "/attrs?b=2&a=x%20y&c=", b"", 200, b"a=x y&b=2&c="),
    ("GET", "/attrs?flag", b"", 200, b"no attributes"),
    ("GET", "/broken", b"", 500, b""),
    ("GET", "/doc/params?to=me&from=you", b"", 200, b"from=you to=me"),  # thrLua != in use
    ("GET", "/doc/params", b"", 200, b""),
    ("GET", "/nowhere", b"", 404, b""),
]


@pytest.fixture
def basic_site(site_dir):
    return site_dir("basic") / "ecelerity.conf"


@pytest.mark.parametrize(("method", "target", "body", "status", "expected"), CASES)
def test_offline(basic_site, method, target, body, status, expected):
    with MomentumTestClient(basic_site) as client:
        response = client.request(method, target, body)
    assert (response.status, response.body) == (status, expected)


def test_reason_phrases_and_content_type(basic_site):
    with MomentumTestClient(basic_site) as client:
        hello, missing, broken = client.post("/hello"), client.get("/x"), client.get("/broken")
    assert hello.reason == "/hello says: Hello world!"
    assert hello.header("Content-Type") == "text/plain"
    assert (missing.reason, broken.reason) == ("NOT FOUND", "ERROR")


def test_handler_error_is_logged_with_script_line_and_traceback(basic_site):
    with MomentumTestClient(basic_site) as client:
        assert client.get("/broken").status == 500
        assert client.post("/hello").status == 200  # still serving
        log = client.paniclog
    assert re.search(r"broken\.lua:5: attempt to index local 'record' \(a nil value\)", log)
    assert "stack traceback" in log and "broken.lua:5: in function" in log
    on_disk = (basic_site.parent / "paniclog.ec").read_text()
    assert re.search(r"^\d+:scriptlet: .*broken\.lua:5: attempt to index", on_disk, re.M)


def parse_raw_response(raw: bytes) -> tuple[int, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def test_call_matches_offline(basic_site, tmp_path):
    runner = CliRunner()
    for method, target, body, status, expected in CASES:
        data = tmp_path / "body.bin"
        data.write_bytes(body)
        args = ["call", "-c", str(basic_site), method, target]
        if body:
            args += ["-d", f"@{data}"]
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        assert parse_raw_response(result.stdout_bytes) == (status, expected), (method, target)


def test_call_prints_curl_style_head(basic_site):
    result = CliRunner().invoke(
        main, ["call", "-c", str(basic_site), "POST", "/hello", "-H", "X-Test: 1"]
    )
    assert result.stdout_bytes.startswith(b"HTTP/1.1 200 /hello says: Hello world!\r\n")
    assert b"\r\nContent-Type: text/plain\r\n" in result.stdout_bytes
    assert b"\r\nContent-Length: 25\r\n\r\n/hello says: Hello world!" in result.stdout_bytes


@pytest.mark.parametrize("parser", ["httptools", "h11"])
def test_serve_matches_offline(basic_site, parser):
    with serve_process(basic_site, 30.0, "--http-parser", parser) as (_, port):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for method, target, body, status, expected in CASES:
            connection.request(method, target, body=body or None)
            response = connection.getresponse()
            assert (response.status, response.read()) == (status, expected), (method, target)
        connection.close()


@pytest.mark.parametrize(
    ("config_text", "files", "expected"),
    [
        ('HTTP_Listener {\n  Listen "127.0.0.1:0" {\n}\n', {}, r"ecelerity\.conf:\d+:\d+: "),
        (
            'scriptlet "scriptlet" { script "bad" { source = "bad" } }\n',
            {"bad.lua": "local ok = 1\nif ok then\n  x = = 2\nend\n"},
            r"bad\.lua:3: unexpected symbol near '='",
        ),
        (
            'scriptlet "scriptlet" { script "boom" { source = "boom" } }\n',
            {"boom.lua": "local t = nil\nprint(t.x)\n"},
            r"boom\.lua:2: attempt to index local 't'",
        ),
        (
            'scriptlet "scriptlet" { script "gone" { source = "no.such.script" } }\n',
            {},
            r"Unable to open '.*no/such/script\.lua', errno=2",
        ),
        (
            'scriptlet "scriptlet" { script "m" { source = "m" } }\n',
            {"m.lua": "local m = {}\nfunction m:init() return false end\n"
                      "msys.registerModule('m', m)\n"},
            r"module 'm' init did not return true",
        ),
    ],
)
def test_check_reports_errors_with_the_config_exit_status(run_check, config_text, files, expected):
    result = run_check(config_text, files)
    assert result.exit_code == EXIT_CONFIG
    assert re.search(expected, result.stderr), result.stderr


def test_check_accepts_a_good_site(basic_site):
    result = CliRunner().invoke(main, ["check", "-c", str(basic_site)])
    assert result.exit_code == 0, result.stderr
    assert "configuration OK" in result.stderr


def test_check_prints_a_generation_error_once(run_check):
    result = run_check(
        'scriptlet "scriptlet" { script "boom" { source = "boom" } }\n',
        {"boom.lua": "local t = nil\nprint(t.x)\n"},
    )
    assert result.exit_code == EXIT_CONFIG
    assert result.stderr.count("boom.lua:2: attempt to index local 't'") == 1


def test_call_with_an_unreadable_data_file_is_a_usage_error(basic_site, tmp_path):
    result = CliRunner().invoke(
        main, ["call", "-c", str(basic_site), "POST", "/echo", "-d", f"@{tmp_path}/absent"]
    )
    assert result.exit_code == 2
    assert "cannot read" in result.stderr and "Traceback" not in result.output
