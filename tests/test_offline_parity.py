"""Offline calls (``MomentumTestClient``, ``momentum-httpsrv call``) answer like the
listener: the same request checks, the same framing rules, the same refusals."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from momentum_httpsrv.cli import main
from momentum_httpsrv.httpsrv.requests import Request
from momentum_httpsrv.node import MomentumNode
from momentum_httpsrv.testing.client import MomentumTestClient
from momentum_httpsrv.testing.process import serve_process

SCRIPT = r"""
require("msys.httpsrv")
local mod = {}
local function body(s)
  s:response_header_set("Content-Type", "text/plain")
  s:response_append("body")
end
local function status(s)
  s:response_append("body")
  s:response_status_set(tonumber(string.match(s:request_url_get().path, "(%d+)$")), "R")
end
local function stream(s)
  s:response_append("part")
  s:response_flush(0)
  s:response_append("two")
end
local function refused(s)
  -- What the wire cannot carry is refused with EINVAL (22); the response stays usable.
  local rcs = {
    s:response_status_set(100, "Continue"),
    s:response_status_set(101, "Switching"),
    s:response_header_set("X Bad", "v"),
    s:response_header_set("X-Nul", "a\0b"),
    s:response_header_set("X-Ctl", "a\1b"),
  }
  s:response_append(table.concat(rcs, ","))
end
function mod:rsrc_setup()
  msys.httpsrv.register(nil, "/body", body)
  msys.httpsrv.register(nil, "/status", status)
  msys.httpsrv.register(nil, "/stream", stream)
  msys.httpsrv.register(nil, "/refused", refused)
  return true
end
msys.registerModule("parity", mod)
"""

# (method, target) -> status, body, {header: value or None for absent}
CASES = [
    ("GET", "/body", 200, b"body", {"Content-Length": "4", "Content-Type": "text/plain"}),
    ("HEAD", "/body", 200, b"", {"Content-Length": "4", "Content-Type": "text/plain"}),
    ("GET", "/status/204", 204, b"", {"Content-Length": None, "Transfer-Encoding": None}),
    ("GET", "/status/304", 304, b"", {"Content-Length": "4"}),
    ("GET", "/stream", 200, b"parttwo", {"Transfer-Encoding": "chunked"}),
    ("HEAD", "/stream", 200, b"", {"Transfer-Encoding": "chunked", "Content-Length": None}),
    ("GET", "/refused", 200, b"22,22,22,22,22", {"X-Nul": None, "X-Ctl": None}),
    ("GE T", "/body", 400, b"", {"Connection": "close"}),  # method is not a token
    ("G\xc9T", "/body", 400, b"", {"Connection": "close"}),
    ("GET", "/a b", 400, b"", {"Connection": "close"}),  # space in the target
    ("GET", "/caf\xe9", 400, b"", {"Connection": "close"}),  # raw byte >= 0x80
    ("GET", "/a\x01b", 400, b"", {"Connection": "close"}),  # control character
    ("GET", "/a\x7f", 400, b"", {"Connection": "close"}),
    ("GET", "/bad%zz", 400, b"", {"Content-Type": "text/plain", "Connection": "close"}),
]
IDS = [f"{method} {target!r}" for method, target, *_ in CASES]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("parity")
    (directory / "parity.lua").write_text(SCRIPT)
    config = directory / "ecelerity.conf"
    config.write_text(
        'HTTP_Listener { Listen "127.0.0.1:0" {} }\n'
        'scriptlet "scriptlet" { script "parity" { source = "parity" } }\n'
    )
    return config


def parse_response(raw: bytes, dechunk: bool) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if dechunk and headers.get("transfer-encoding") == "chunked":
        data = b""
        while True:
            size_line, _, body = body.partition(b"\r\n")
            size = int(size_line, 16)
            if not size:
                break
            data, body = data + body[:size], body[size + 2 :]
        body = data
    return int(status_line.split(" ")[1]), headers, body


def assert_matches(status, headers, body, expected_status, expected_body, expected_headers):
    assert (status, body) == (expected_status, expected_body)
    for name, value in expected_headers.items():
        assert headers.get(name.lower()) == value, name


@pytest.mark.parametrize(("method", "target", "status", "body", "headers"), CASES, ids=IDS)
def test_test_client(site, method, target, status, body, headers):
    with MomentumTestClient(site) as client:
        response = client.request(method, target)
    received = {name.lower(): value for name, value in response.headers}
    assert_matches(response.status, received, response.body, status, body, headers)


@pytest.mark.parametrize(("method", "target", "status", "body", "headers"), CASES, ids=IDS)
def test_call(site, method, target, status, body, headers):
    result = CliRunner().invoke(main, ["call", "-c", str(site), method, target])
    assert result.exit_code == 0, result.output
    assert_matches(*parse_response(result.stdout_bytes, dechunk=False), status, body, headers)


def test_listener(site):
    """The expectations above are what ``serve`` sends (one process for every case)."""
    with serve_process(site) as (_, port):
        for method, target, status, body, headers in CASES:
            request = f"{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
                client.sendall(request.encode("latin-1"))
                raw = b""
                while chunk := client.recv(65536):
                    raw += chunk
            received = parse_response(raw, dechunk=method != "HEAD")
            assert_matches(*received, status, body, headers)


def test_bad_percent_escape_closes_a_keep_alive_connection(site):
    with serve_process(site) as (_, port):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            client.sendall(b"GET /bad%zz HTTP/1.1\r\nHost: x\r\n\r\n")
            raw = b""
            while chunk := client.recv(65536):  # ends only because the server closes
                raw += chunk
    status, headers, _ = parse_response(raw, dechunk=False)
    assert status == 400
    assert (headers["content-type"], headers["connection"]) == ("text/plain", "close")


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        (Request("GET", "/body"), 200),  # Host may be missing offline: no connection
        (Request("GET", "/body", "1.1", [("Host", "a"), ("Host", "b")]), 400),
        (Request("GET", "/body", "1.1", [("X Bad", "v")]), 400),
        (Request("GET", "/body", "1.1", [("X-A", "v\r\nInjected: 1")]), 400),
        (Request("GET", "/body", "1.1", [("Transfer-Encoding", "gzip")]), 501),
        (Request("GET", "/body", "2.0"), 505),
        (Request("GET", "/body", "1.x"), 400),
    ],
)
def test_node_handle_checks_the_request_like_the_listener(site, request_, status):
    node = MomentumNode(site)
    node.start()
    try:
        assert node.call(request_).status == status
    finally:
        node.stop()
