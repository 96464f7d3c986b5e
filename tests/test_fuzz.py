"""Bounded fuzzing of what hostile input reaches: the configuration parser and its apply
step, the thrLua translator, both HTTP parsers over a real socket, the JSON decoder.
Each property asserts only that errors are the clean, specific ones and that the server
keeps serving; each runs a bounded number of examples (a few seconds)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from momentum_httpsrv.config import ConfigError, parse_config_text
from momentum_httpsrv.lua.runtime import LuaScriptError, LuaState
from momentum_httpsrv.node import GenerationError, build_generation
from momentum_httpsrv.paniclog import Paniclog
from momentum_httpsrv.testing.process import serve_process

FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# -- configuration ----------------------------------------------------------------------

CONFIG_PIECES = st.sampled_from([
    "HTTP_Listener", "Listen", '"127.0.0.1:0"', '"/tmp/s"', "{", "}", "(", ")", "[", "]", "=",
    "Idle_Time", "Response_Timeout", "Max_Request_Size", "Use_SSL", "TLS_Certificate",
    "Enable_Authentication", "AuthPlainParameters", "uri", '"file://x"', "scriptlet",
    "CPU_Time_Limit", "Memory_Limit", "-1", "0", "1.5", "true", "yes", "ecelerity", "Peer",
    "Control_Listener", '"0.0.0.0:99999"', "include", '"missing.conf"', "#", "/*", "*/",
    "\n", " ", '"\\"', "'", "\x00", "\xff", "ec_logger", "paniclog", "Always_Deny",
])


@FUZZ
@given(st.lists(CONFIG_PIECES, max_size=30).map(" ".join))
def test_config_parse_and_apply_fail_only_with_config_errors(tmp_path: Path, text: str):
    try:
        config = parse_config_text(text, str(tmp_path / "ecelerity.conf"))
        build_generation(config, 1, Paniclog(None)).lua.msys_async.close()
    except (ConfigError, GenerationError) as error:
        assert str(error)  # a message a user can read
    except OSError as error:  # a file it names: the message says which
        assert error.strerror or str(error)


LATIN_1 = st.characters(max_codepoint=255)  # scripts and bodies are bytes read as Latin-1

# -- thrLua translator ------------------------------------------------------------------

LUA_PIECES = st.sampled_from([
    "local", "x", "=", "1", "0x", "08", "!=", "!", "~", "|", "&", "^^", "<<", ">>", "\\",
    "for", "in", "do", "end", "function", "(", ")", "{", "}", "[[", "]]", "--", '"\\x4', '"',
    "'\\u{", "\n", " ", "return", "if", "then", ".", ":", ",", "pairs", "nil", "..", "...",
])


@pytest.fixture(scope="module")
def state() -> LuaState:
    return LuaState()


@FUZZ
@given(st.one_of(st.lists(LUA_PIECES, max_size=40).map(" ".join), st.text(LATIN_1, max_size=200)))
def test_translator_and_compiler_fail_only_with_lua_errors(state: LuaState, source: str):
    try:
        state.compile(source, "=fuzz")
    except LuaScriptError as error:
        assert re.match(r"fuzz:(\d+:)? ", error.message), error.message


# -- JSON decoder -----------------------------------------------------------------------

JSON_PIECES = st.sampled_from([
    "{", "}", "[", "]", ",", ":", '"', '"a"', "\\u", "d800", "1", "-", "e", "1e999", ".5",
    "true", "nul", "null", " ", "\x00", "\\", "/", "\xff",
])


@FUZZ
@given(st.one_of(st.lists(JSON_PIECES, max_size=40).map("".join), st.text(LATIN_1, max_size=100)))
def test_json_decode_answers_a_value_or_nil_and_a_message(state: LuaState, text: str):
    result = state.execute(
        "local ok, value, code, message = pcall(require('json').decode, ...)\n"
        "return ok, value == nil, type(code), type(message)",
        "=fuzz",
        text,
    )
    ok, is_nil, code, message = result
    assert ok is True  # never a Lua error, let alone a Python one
    assert not is_nil or (code, message) == ("number", "string")


# -- HTTP parsers over a socket ---------------------------------------------------------

SITE = r'''
require("msys.extended.httpsrv")
msys.httpsrv.register("POST", "/echo", function(s)
  s:response_append(s:request_data_get_string())
end)
msys.httpsrv.register("GET", "/ok", function(s) s:response_append("alive") end)
'''

TOKENS = st.sampled_from(["GET", "POST", "HEAD", "PUT", "G\x00T", "", "get", "PRI"])
TARGETS = st.sampled_from(
    ["/ok", "/echo", "*", "http://x/ok", "/%zz", "/a b", "ok", "/\xff", "/" + "a" * 9000, ""]
)
VERSIONS = st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1 x", "http/1.1", ""])
HEADERS = st.lists(
    st.sampled_from([
        "Host: x", "Content-Length: 5", "Content-Length: -1", "Content-Length: 5, 6",
        "Transfer-Encoding: chunked", "Transfer-Encoding: gzip, chunked", "Expect: 100-continue",
        "Connection: close", " folded", "X:\x00", "No-Colon", ": empty-name", "X-\xff: y",
        "Content-Length: 99999999999999999999",
    ]),
    max_size=6,
)
BODIES = st.sampled_from([
    "", "hello", "5\r\nhello\r\n0\r\n\r\n", "zz\r\n", "5\r\nhel", "0\r\n\r\n",
    "ffffffffffffffffff\r\n", "5;ext=\x00\r\nhello\r\n0\r\n\r\n",
])
REQUESTS = st.one_of(
    st.builds(
        lambda method, target, version, headers, body: (
            f"{method} {target} {version}\r\n" + "".join(h + "\r\n" for h in headers)
            + "\r\n" + body
        ).encode("latin-1"),
        TOKENS, TARGETS, VERSIONS, HEADERS, BODIES,
    ),
    st.binary(max_size=300),
)


@pytest.fixture(scope="module", params=["httptools", "h11"])
def served_port(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    directory = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    (directory / "site.lua").write_text(SITE)
    (directory / "ecelerity.conf").write_text(
        'scriptlet "scriptlet" { script "site" { source = "site" } }\n'
        'HTTP_Listener { Listen "127.0.0.1:0" { } }\n'
    )
    with serve_process(directory / "ecelerity.conf", 30.0, "--http-parser", request.param) as (
        process, port
    ):
        yield port
        assert process.poll() is None  # still running after every example


def send_and_read(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)  # the server sees the end: no waiting for more
        except OSError:  # it answered and closed before taking everything
            pass
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                return received
            received += chunk
        return received


@FUZZ
@given(REQUESTS)
def test_http_parsers_answer_hostile_requests_without_server_errors(
    served_port: int, data: bytes
):
    """4xx, or 501/505 for what HTTP/1.1 itself cannot serve; never a 500."""
    statuses = re.findall(rb"HTTP/1\.[01] (\d{3}) ", send_and_read(served_port, data))
    protocol_level = (b"501", b"505")
    assert all(not s.startswith(b"5") or s in protocol_level for s in statuses), (
        data[:120], statuses
    )
    alive = send_and_read(served_port, b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert alive.startswith(b"HTTP/1.1 200 ") and alive.endswith(b"alive")
