"""Response_Timeout: a request whose handler suspends and never answers gets a 500 (or
a cut connection once output began) when the listener's deadline passes."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from momentum_httpsrv.cli import EXIT_CONFIG
from momentum_httpsrv.testing.process import serve_process

SITE = r'''
require("msys.extended.httpsrv")
msys.httpsrv.register("GET", "/never", function(s) msys.sleep(3600) end)
msys.httpsrv.register("GET", "/half", function(s)
  s:response_append("partial")
  s:response_flush()
  msys.sleep(3600)
end)
msys.httpsrv.register("GET", "/ok", function(s) s:response_append("alive") end)
'''


def exchange(port: int, target: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:  # an aborted response
                break
            if not chunk:
                break
            received += chunk
            if target == "/ok" and received.endswith(b"alive"):
                break
            if target == "/never" and b"\r\n\r\n" in received:
                break
        return received


@pytest.fixture
def served(tmp_path: Path):
    (tmp_path / "site.lua").write_text(SITE)
    (tmp_path / "ecelerity.conf").write_text(
        'scriptlet "scriptlet" { script "site" { source = "site" } }\n'
        'HTTP_Listener { Listen "127.0.0.1:0" { Response_Timeout = 0.5 } }\n'
    )
    with serve_process(tmp_path / "ecelerity.conf") as (process, port):
        yield port, tmp_path / "paniclog.ec"


def test_a_handler_that_never_answers_gets_500(served):
    port, paniclog = served
    assert exchange(port, "/never").startswith(b"HTTP/1.1 500 ")
    assert exchange(port, "/ok").endswith(b"alive")
    assert "GET /never: no response within Response_Timeout (0.5 s)" in paniclog.read_text()


def test_a_started_response_is_cut_at_the_deadline(served):
    port, _ = served
    received = exchange(port, "/half")  # returns when the server closes the connection
    assert received.startswith(b"HTTP/1.1 200 ") and b"partial" in received


def test_response_timeout_is_checked(run_check):
    result = run_check('HTTP_Listener { Listen "127.0.0.1:0" { Response_Timeout = -1 } }\n')
    assert result.exit_code == EXIT_CONFIG
    assert "ecelerity.conf:1:" in result.output and "must be 0 or more" in result.output
