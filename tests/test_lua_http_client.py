"""msys.http.client against real HTTP and HTTPS servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
import ssl
import threading
import weakref

import pytest
import trustme

from momentum_httpsrv.lua.msys_http import AiohttpTransport
from momentum_httpsrv.lua.outside import WORLD
from momentum_httpsrv.lua.runtime import LuaScriptError, LuaState
from momentum_httpsrv.testing.local_servers import LocalHttpServer


@pytest.fixture(scope="module")
def authority():
    return trustme.CA()


@pytest.fixture(scope="module")
def http_server():
    server = LocalHttpServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def https_server(authority):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    server = LocalHttpServer(tls=context)
    yield server
    server.close()


@pytest.fixture
def trusted(authority, tmp_path, monkeypatch):
    """The host's CA store is the test authority (OpenSSL reads SSL_CERT_FILE)."""
    authority.cert_pem.write_to_path(tmp_path / "ca.pem")
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    with WORLD.replaced(http=AiohttpTransport()):
        yield


@pytest.fixture
def state():
    return LuaState([])


def run(state: LuaState, source: str) -> tuple:
    return asyncio.run(state.run_in_task(state.compile(source, "@client.lua")))


def test_post_with_headers_status_body_and_headers(state, http_server):
    ok, code, text, body, raw_ctype, parsed_ctype, implicit = run(state, f"""
        local c = msys.http.client.new()
        c:set_header("Content-Type: text/xml; charset=utf-8")
        c:set_header("X-Trace: 42")
        local ok = c:do_request("POST", "{http_server.url}/echo", "<a/>")
        local code, text = c:get_status()
        local raw = c:get_headers()
        local ctype
        for _, line in ipairs(raw) do
          if line:match("^Content%-Type:") then ctype = line end
        end
        local parsed = c:parse_headers(c:get_headers())
        return ok, code, text, c:get_body(), ctype, parsed["Content-Type"],
          c:parse_headers()["X-Local-Server"]
    """)
    assert (ok, code, text) == (True, 200, "OK")
    echoed = json.loads(body)
    assert echoed["method"] == "POST" and echoed["body"] == "<a/>"
    assert echoed["headers"]["Content-Type"] == "text/xml; charset=utf-8"
    assert echoed["headers"]["X-Trace"] == "42"
    assert (raw_ctype, parsed_ctype, implicit) == (
        "Content-Type: application/json", "application/json", "yes"
    )


def test_request_is_do_request_and_set_header_without_argument_clears(state, http_server):
    ok, code, body = run(state, f"""
        local c = msys.http.client.new()
        c:set_header("X-Gone: 1")
        c:set_header()
        local ok = c:request("DELETE", "{http_server.url}/status/404")
        return ok, c:get_status(), c:get_body()
    """)
    assert (ok, code) == (True, 404)
    assert "X-Gone" not in json.loads(body)["headers"]


def test_https_with_a_trusted_certificate(state, https_server, trusted):
    ok, code, body = run(state, f"""
        local c = msys.http.client.new()
        local ok = c:do_request("PUT", "{https_server.url}/echo", "x")
        return ok, c:get_status(), c:get_body()
    """)
    assert (ok, code, json.loads(body)["method"]) == (True, 200, "PUT")


def test_https_with_an_untrusted_certificate_is_curl_60(state, https_server):
    with WORLD.replaced(http=AiohttpTransport()):
        result = run(state, f"""
            local c = msys.http.client.new()
            return c:do_request("GET", "{https_server.url}/echo")
        """)
    assert result == (False, "SSL peer certificate or SSH remote key was not OK", 60)


def test_refused_connection_is_curl_7(state):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run(state, f"""
        local c = msys.http.client.new()
        local ok, err, code = c:do_request("GET", "http://127.0.0.1:{port}/")
        return ok, err, code, c:get_status()
    """)
    assert result == (False, "Couldn't connect to server", 7, None, None)


def test_timeout_is_curl_28(state, http_server):
    result = run(state, f"""
        local c = msys.http.client.new()
        c:set_timeout(1)
        return c:do_request("GET", "{http_server.url}/slow")
    """)
    assert result == (False, "Timeout was reached", 28)


def test_server_hanging_up_is_curl_52(state, http_server):
    result = run(state, f"""
        return msys.http.client.new():do_request("GET", "{http_server.url}/hangup")
    """)
    assert result == (False, "Server returned nothing (no headers, no data)", 52)


def test_bad_url_and_scheme_are_curl_errors(state):
    assert run(state, 'return msys.http.client.new():do_request("GET", "ftp://x/")') == (
        False, "Unsupported protocol", 1
    )
    assert run(state, 'return msys.http.client.new():do_request("GET", "http://")') == (
        False, "URL using bad/illegal format or missing URL", 3
    )


def test_bad_method_is_a_lua_error_at_the_script_line(state):
    with pytest.raises(LuaScriptError, match=r"^client\.lua:2: do_request: method must be"):
        run(state, 'local c = msys.http.client.new()\nc:do_request("PATCH", "http://x/")\n')


def test_outside_a_task_the_request_blocks_and_answers(state, http_server):
    result = state.execute(
        f'local c = msys.http.client.new()\nc:do_request("GET", "{http_server.url}/echo")\n'
        "return c:get_status()", "=top"
    )
    assert result == (200, "OK")


def test_the_ca_store_is_loaded_once_off_the_event_loop(state, http_server, monkeypatch):
    """Loading the host's CA store takes tens of ms (more on a busy machine): done on the
    loop, the first outbound call would hold every other request that long; done once
    for all the calls that start together, not once for each."""
    threads = []
    real = ssl.create_default_context

    def recording(*args: object, **kwargs: object) -> ssl.SSLContext:
        threads.append(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr("momentum_httpsrv.lua.msys_http.ssl.create_default_context", recording)

    async def first_calls() -> tuple:
        loop_thread = threading.get_ident()
        chunk = state.compile(f"""
            local c = msys.http.client.new()
            local ok = c:do_request("GET", "{http_server.url}/echo")
            return ok, c:get_status()
        """, "@client.lua")
        return loop_thread, await asyncio.gather(*(state.run_in_task(chunk) for _ in range(20)))

    with WORLD.replaced(http=AiohttpTransport()):
        loop_thread, results = asyncio.run(first_calls())
    assert results == [(True, 200, "OK")] * 20
    assert len(threads) == 1 and loop_thread not in threads


def test_event_loops_are_not_kept_alive_by_the_client_or_task_resumption(state, http_server):
    """Each asyncio.run (MomentumTestClient, a blocking top-level call) is a new loop: what
    was kept per loop must go with it, or every test's loop stays in memory."""
    loops: list[weakref.ref] = []
    chunk = state.compile(f"""
        msys.sleep(0)
        local c = msys.http.client.new()
        return c:do_request("GET", "{http_server.url}/echo")
    """, "@client.lua")

    async def call() -> tuple:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        return await state.run_in_task(chunk)

    with WORLD.replaced(http=AiohttpTransport()):
        for _ in range(3):
            assert asyncio.run(call()) == (True,)
        gc.collect()
        assert [loop() for loop in loops] == [None, None, None]
