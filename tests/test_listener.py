"""A real HttpListener on 127.0.0.1 (ephemeral port) or a Unix socket, with a tiny dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import stat
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from momentum_httpsrv.httpsrv.listener import HttpListener, ListenerError, ListenerSettings
from momentum_httpsrv.httpsrv.protocol import ResponseError
from momentum_httpsrv.httpsrv.requests import Request
from momentum_httpsrv.httpsrv.responses import ResponseSink
from momentum_httpsrv.listen_address import (
    ListenAddress,
    ListenAddressError,
    parse_listen_address,
)

# Every listener test runs on asyncio's loop and on uvloop.
pytestmark = pytest.mark.usefixtures("each_event_loop")

HELLO = b"Hello World!"
STREAM_PIECE = 64 * 1024
STREAM_PIECES = 256  # 16 MiB: more than loopback socket buffers hold
STREAM_SIZE = STREAM_PIECE * STREAM_PIECES


@dataclass
class DemoApp:
    """The test dispatcher: GET/HEAD /hello, POST /echo, failure paths, 404 otherwise."""

    seen: list[Request] = field(default_factory=list)
    streamed: int = 0
    peer_gone_after_stream: bool = False
    release: asyncio.Event | None = None
    kept_sink: ResponseSink | None = None

    async def __call__(self, request: Request, sink: ResponseSink) -> None:
        self.seen.append(request)
        path = request.target.partition("?")[0]
        if path == "/hello" and request.method in ("GET", "HEAD"):
            sink.start(200, "OK", [("Content-Type", "text/plain")], len(HELLO))
            sink.write(HELLO)
            sink.end()
        elif path == "/echo" and request.method == "POST":
            sink.start(200, "OK", [("Content-Type", "application/octet-stream")], len(request.body))
            sink.write(request.body)
            sink.end()
        elif path == "/raise":
            raise RuntimeError("handler failed")
        elif path == "/raise-after-start":
            sink.start(200, "OK", [], None)
            sink.write(b"partial")
            await sink.drain()
            raise RuntimeError("handler failed mid-body")
        elif path == "/no-response":
            self.kept_sink = sink
        elif path == "/use-kept-sink":  # a sink leaked from an earlier request
            assert self.kept_sink is not None
            try:
                self.kept_sink.start(200, "OK", [], 5)
                self.kept_sink.write(b"stale")
                self.kept_sink.end()
            except ResponseError:
                sink.start(200, "OK", [], 7)
                sink.write(b"refused")
                sink.end()
        elif path == "/unended":
            sink.start(200, "OK", [], None)
            sink.write(b"left open")
        elif path == "/stream":
            sink.start(200, "OK", [], None)
            piece = b"s" * STREAM_PIECE
            for _ in range(STREAM_PIECES):
                sink.write(piece)
                await sink.drain()
                self.streamed += len(piece)
            sink.end()
            self.peer_gone_after_stream = sink.peer_gone
        elif path == "/wait":
            assert self.release is not None
            await self.release.wait()
            sink.start(200, "OK", [], 4)
            sink.write(b"done")
            sink.end()
        elif path == "/conn":
            info = request.connection
            text = f"{info.conn_id} {info.listener} {info.peer} {info.local}".encode()
            sink.start(200, "OK", [], len(text))
            sink.write(text)
            sink.end()
        else:
            sink.start(404, "NOT FOUND", [("Content-Type", "text/plain")], 0)
            sink.end()


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 30))


@contextlib.asynccontextmanager
async def serving(
    dispatch: Any = None, address: str = "127.0.0.1:0", **overrides: Any
) -> AsyncIterator[HttpListener]:
    logged: list[str] = []
    listener = HttpListener(
        address, dispatch or DemoApp(), ListenerSettings(**overrides), log=logged.append
    )
    listener.logged = logged  # type: ignore[attr-defined]
    await listener.start()
    try:
        yield listener
    finally:
        await listener.close(grace=1.0)


def port_of(listener: HttpListener) -> int:
    bound = listener.bound_addresses[0]
    assert isinstance(bound, tuple)
    return bound[1]


async def connect(listener: HttpListener) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port_of(listener))


@dataclass
class Reply:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


async def read_reply(reader: asyncio.StreamReader, method: str = "GET") -> Reply | None:
    """One response (interim 1xx included as its own reply); None if the server closed."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")[:-2]
    _, status, reason = lines[0].split(" ", 2)
    headers = [tuple(line.split(": ", 1)) for line in lines[1:]]
    reply = Reply(int(status), reason, headers, b"")  # type: ignore[arg-type]
    if method == "HEAD" or reply.status < 200 or reply.status in (204, 304):
        return reply
    if reply.header("Transfer-Encoding") == "chunked":
        parts = []
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            parts.append(await reader.readexactly(size))
            assert await reader.readexactly(2) == b"\r\n"
        assert await reader.readexactly(2) == b"\r\n"
        reply.body = b"".join(parts)
    elif reply.header("Content-Length") is not None:
        reply.body = await reader.readexactly(int(reply.header("Content-Length") or 0))
    else:
        reply.body = await asyncio.wait_for(reader.read(), 5)
    return reply


async def server_closed(reader: asyncio.StreamReader, within: float = 5.0) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1), within) == b""
    except ConnectionResetError:
        return True


def get(path: str, extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: t\r\n{extra}\r\n".encode()


def post(path: str, body: bytes, extra: str = "") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


# ------------------------------------------------------------------ addresses

ADDRESSES = [
    (":2081", ListenAddress(socket.AF_INET, "0.0.0.0", 2081)),
    ("*:2081", ListenAddress(socket.AF_INET, "0.0.0.0", 2081)),
    ("127.0.0.1:2081", ListenAddress(socket.AF_INET, "127.0.0.1", 2081)),
    ("[::1]:2081", ListenAddress(socket.AF_INET6, "::1", 2081)),
    ("[::]:2081", ListenAddress(socket.AF_INET6, "::", 2081)),
    ("[*]:2081", ListenAddress(socket.AF_INET6, "::", 2081)),
    ("[0:0:0:0:0:0:0:0]:0", ListenAddress(socket.AF_INET6, "::", 0)),
    ("/var/run/http.sock", ListenAddress(socket.AF_UNIX, path="/var/run/http.sock")),
]


@pytest.mark.parametrize(("text", "expected"), ADDRESSES, ids=[a for a, _ in ADDRESSES])
def test_listen_address_forms(text: str, expected: ListenAddress) -> None:
    assert parse_listen_address(text) == expected


BAD_ADDRESSES = ["2081", "localhost:2081", "::1:2081", "[::1]", ":99999", ":", "1.2.3:80",
                 "[nope]:80", "127.0.0.1:-1", "relative/path"]


@pytest.mark.parametrize("text", BAD_ADDRESSES)
def test_bad_listen_address_is_a_specific_error(text: str) -> None:
    with pytest.raises(ListenAddressError, match=repr(text).replace("[", r"\[")):
        parse_listen_address(text)


def _ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.parametrize(
    ("address", "connect_to"),
    [
        (":0", "127.0.0.1"),
        pytest.param(
            "[::1]:0",
            "::1",
            marks=pytest.mark.skipif(not _ipv6_loopback_available(), reason="no IPv6 loopback"),
        ),
    ],
)
def test_listen_on_all_ipv4_and_on_ipv6(address: str, connect_to: str) -> None:
    async def scenario() -> None:
        async with serving(address=address) as listener:
            host, port = listener.bound_addresses[0]  # type: ignore[misc]
            assert host == ("0.0.0.0" if connect_to == "127.0.0.1" else "::1")
            reader, writer = await asyncio.open_connection(connect_to, port)
            writer.write(get("/conn"))
            reply = await read_reply(reader)
            assert reply is not None
            assert f" {address} ('{connect_to}', " in reply.body.decode()
            writer.close()

    run(scenario())


def test_bad_address_fails_start_with_listener_error() -> None:
    async def scenario() -> None:
        listener = HttpListener("localhost:80", DemoApp())
        with pytest.raises(ListenerError, match="'localhost:80'.*not an IP address"):
            await listener.start()

    run(scenario())


def test_port_in_use_fails_start_with_listener_error() -> None:
    async def scenario() -> None:
        async with serving() as first:
            address = f"127.0.0.1:{port_of(first)}"
            with pytest.raises(ListenerError, match=address):
                await HttpListener(address, DemoApp()).start()

    run(scenario())


# ------------------------------------------------------------------ HTTP basics


def test_keep_alive_serves_several_requests_on_one_connection() -> None:
    async def scenario() -> None:
        app = DemoApp()
        async with serving(app) as listener:
            reader, writer = await connect(listener)
            for index in range(3):
                writer.write(get("/hello"))
                assert (await read_reply(reader)).body == HELLO  # type: ignore[union-attr]
                writer.write(post("/echo", b"round %d" % index))
                reply = await read_reply(reader)
                assert reply is not None and reply.body == b"round %d" % index
                assert reply.header("Connection") is None and reply.header("Date")
            assert len({r.connection.conn_id for r in app.seen}) == 1
            writer.close()

    run(scenario())


def test_pipelined_requests_are_answered_in_order() -> None:
    async def scenario() -> None:
        async with serving() as listener:
            reader, writer = await connect(listener)
            writer.write(post("/echo", b"one") + get("/missing") + post("/echo", b"three"))
            replies = [await read_reply(reader) for _ in range(3)]
            assert [(r.status, r.body) for r in replies if r] == [
                (200, b"one"), (404, b""), (200, b"three")
            ]
            writer.close()

    run(scenario())


def test_connection_info_is_filled_per_connection() -> None:
    async def scenario() -> None:
        async with serving() as listener:
            port = port_of(listener)
            texts = []
            for _ in range(2):
                reader, writer = await connect(listener)
                writer.write(get("/conn"))
                texts.append((await read_reply(reader)).body.decode())  # type: ignore[union-attr]
                client_port = writer.get_extra_info("sockname")[1]
                assert texts[-1].endswith(
                    f" 127.0.0.1:0 ('127.0.0.1', {client_port}) ('127.0.0.1', {port})"
                )
                writer.close()
            assert texts[0].split()[0] != texts[1].split()[0]  # distinct conn_id

    run(scenario())


def test_client_reset_just_before_the_final_fin_is_survived() -> None:
    """Under load a client's reset can land between our last write and the FIN; the
    shutdown() behind write_eof() then fails with ENOTCONN (seen with wrk)."""

    async def scenario() -> None:
        app = DemoApp(release=asyncio.Event())
        async with serving(app) as listener:
            reader, writer = await connect(listener)
            writer.write(get("/wait", "Connection: close\r\n"))
            while not app.seen:
                await asyncio.sleep(0.01)
            (connection,) = listener._connections  # white box: make the race deterministic

            class ResetBeforeFin:  # uvloop's transports take no patched attributes
                def __init__(self, transport: Any) -> None:
                    self._transport = transport

                def write_eof(self) -> None:
                    raise OSError(errno.ENOTCONN, "Transport endpoint is not connected")

                def __getattr__(self, name: str) -> Any:
                    return getattr(self._transport, name)

            connection._transport = ResetBeforeFin(connection._transport)  # type: ignore
            app.release.set()  # type: ignore[union-attr]
            assert (await read_reply(reader)).body == b"done"  # type: ignore[union-attr]
            assert await server_closed(reader, within=2)
            assert listener.connection_count == 0 and listener.logged == []  # type: ignore
            writer.close()

    run(scenario())


def test_http10_response_then_close() -> None:
    async def scenario() -> None:
        async with serving() as listener:
            reader, writer = await connect(listener)
            writer.write(b"GET /hello HTTP/1.0\r\n\r\n")
            reply = await read_reply(reader)
            assert reply is not None and reply.body == HELLO
            assert reply.header("Connection") == "close"
            assert await server_closed(reader)
            writer.close()

    run(scenario())


def test_malformed_request_gets_400_and_close_and_server_keeps_serving() -> None:
    async def scenario() -> None:
        async with serving() as listener:
            reader, writer = await connect(listener)
            writer.write(b"GET /hello HTTP/1.1\r\n\r\n" + get("/hello"))
            reply = await read_reply(reader)
            assert reply is not None and (reply.status, reply.header("Connection")) == (
                400, "close"
            )
            assert await server_closed(reader)
            writer.close()
            reader, writer = await connect(listener)
            writer.write(get("/hello"))
            assert (await read_reply(reader)).status == 200  # type: ignore[union-attr]
            writer.close()

    run(scenario())


def test_max_request_size_gives_413_and_close() -> None:
    async def scenario() -> None:
        async with serving(max_request_size=10) as listener:
            reader, writer = await connect(listener)
            writer.write(post("/echo", b"0123456789"))
            assert (await read_reply(reader)).body == b"0123456789"  # type: ignore[union-attr]
            writer.write(post("/echo", b"0123456789A"))
            assert (await read_reply(reader)).status == 413  # type: ignore[union-attr]
            assert await server_closed(reader)
            writer.close()

    run(scenario())


def test_expect_100_continue_is_answered_before_the_body() -> None:
    async def scenario() -> None:
        async with serving() as listener:
            reader, writer = await connect(listener)
            writer.write(
                b"POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                b"Content-Length: 4\r\n\r\n"
            )
            interim = await read_reply(reader)
            assert interim is not None and (interim.status, interim.reason) == (100, "Continue")
            writer.write(b"body")
            assert (await read_reply(reader)).body == b"body"  # type: ignore[union-attr]
            writer.close()

    run(scenario())


# ------------------------------------------------------- dispatcher failures


def test_dispatcher_exception_gives_500_and_the_next_request_is_served() -> None:
    async def scenario() -> None:
        async with serving() as listener:
            reader, writer = await connect(listener)
            writer.write(get("/raise") + get("/hello"))
            reply = await read_reply(reader)
            assert reply is not None and (reply.status, reply.reason) == (500, "ERROR")
            assert (await read_reply(reader)).body == HELLO  # type: ignore[union-attr]
            logged = listener.logged  # type: ignore[attr-defined]
            assert len(logged) == 1
            assert "GET /raise" in logged[0] and "RuntimeError: handler failed" in logged[0]
            writer.close()

    run(scenario())


async def read_until_closed(sock: socket.socket) -> tuple[bytes, bool]:
    """Everything the server sent, and whether the connection ended with a reset."""
    loop = asyncio.get_running_loop()
    data = b""
    while True:
        try:
            piece = await asyncio.wait_for(loop.sock_recv(sock, 65536), 5)
        except ConnectionResetError:
            return data, True
        if not piece:
            return data, False
        data += piece


ABORTED = [
    ("chunked", get("/raise-after-start"), {}),
    ("close-delimited HTTP/1.0", b"GET /raise-after-start HTTP/1.0\r\n\r\n", {}),
    ("close-delimited by Disable_Chunked", get("/raise-after-start"), {"disable_chunked": True}),
]


@pytest.mark.parametrize(
    ("request_data", "overrides"), [case[1:] for case in ABORTED], ids=[case[0] for case in ABORTED]
)
def test_dispatcher_exception_after_the_head_was_sent_resets_the_connection(
    request_data: bytes, overrides: dict[str, Any]
) -> None:
    """A FIN would end a close-delimited body as if it were complete: the client must see
    a reset, and never the terminating chunk or the pipelined second response."""

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        async with serving(**overrides) as listener:
            with socket.create_connection(("127.0.0.1", port_of(listener))) as sock:
                sock.setblocking(False)
                await loop.sock_sendall(sock, request_data + get("/hello"))
                data, reset = await read_until_closed(sock)
            assert reset, data
            assert data.startswith(b"HTTP/1.1 200 OK\r\n")
            assert HELLO not in data and not data.endswith(b"0\r\n\r\n")
            assert "mid-body" in listener.logged[0]  # type: ignore[attr-defined]
            reader, writer = await connect(listener)
            writer.write(get("/hello"))
            assert (await read_reply(reader)).status == 200  # type: ignore[union-attr]
            writer.close()

    run(scenario())


def test_dispatcher_returning_without_a_response_gives_500() -> None:
    async def scenario() -> None:
        async with serving() as listener:
            reader, writer = await connect(listener)
            writer.write(get("/no-response") + get("/use-kept-sink"))
            assert (await read_reply(reader)).status == 500  # type: ignore[union-attr]
            assert (await read_reply(reader)).body == b"refused"  # type: ignore[union-attr]
            assert "without starting a response" in listener.logged[0]  # type: ignore[attr-defined]
            writer.close()

    run(scenario())


def test_response_left_open_is_finished_by_the_listener() -> None:
    async def scenario() -> None:
        async with serving() as listener:
            reader, writer = await connect(listener)
            writer.write(get("/unended") + get("/hello"))
            reply = await read_reply(reader)
            assert reply is not None and reply.body == b"left open"
            assert (await read_reply(reader)).body == HELLO  # type: ignore[union-attr]
            writer.close()

    run(scenario())


# ------------------------------------------------------------ back-pressure


def test_streaming_waits_for_a_slow_reader() -> None:
    async def scenario() -> None:
        app = DemoApp()
        async with serving(app) as listener:
            reader, writer = await connect(listener)
            writer.write(get("/stream"))
            await asyncio.sleep(0.5)  # read nothing: drain() must hold the handler back
            assert 0 < app.streamed < STREAM_SIZE
            reply = await read_reply(reader)
            assert reply is not None and len(reply.body) == STREAM_SIZE
            assert app.streamed == STREAM_SIZE
            writer.close()

    run(scenario())


def test_client_that_never_reads_is_dropped_after_the_send_timeout() -> None:
    async def scenario() -> None:
        app = DemoApp()
        async with serving(app, send_timeout=0.3) as listener:
            reader, writer = await connect(listener)
            writer.write(get("/stream"))
            for _ in range(50):
                await asyncio.sleep(0.1)
                if listener.connection_count == 0:
                    break
            assert listener.connection_count == 0
            received = 0
            with contextlib.suppress(ConnectionResetError):
                while chunk := await asyncio.wait_for(reader.read(1 << 20), 5):
                    received += len(chunk)
            assert received < STREAM_SIZE
            while not app.peer_gone_after_stream:  # the handler ran on, its output dropped
                await asyncio.sleep(0.01)
            writer.close()

    run(scenario())


# ------------------------------------------------------------------- timeouts


def test_head_deadline_is_total_even_when_bytes_trickle_in() -> None:
    async def scenario() -> None:
        async with serving(head_timeout=0.4) as listener:
            reader, writer = await connect(listener)
            started = time.monotonic()
            writer.write(b"GET /hello HTTP/1.1\r\nHost: t\r\n")
            read = asyncio.ensure_future(read_reply(reader))
            while not read.done():
                writer.write(b"X")
                await asyncio.sleep(0.05)
            assert read.result().status == 408  # type: ignore[union-attr]
            assert 0.35 < time.monotonic() - started < 2
            assert await server_closed(reader)
            writer.close()

    run(scenario())


def test_stalled_body_gets_408() -> None:
    async def scenario() -> None:
        async with serving(body_timeout=0.3) as listener:
            reader, writer = await connect(listener)
            writer.write(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
            assert (await read_reply(reader)).status == 408  # type: ignore[union-attr]
            assert await server_closed(reader)
            writer.close()

    run(scenario())


def test_idle_connection_is_closed_after_idle_time() -> None:
    async def scenario() -> None:
        async with serving(idle_time=0.3) as listener:
            reader, writer = await connect(listener)
            writer.write(get("/hello"))
            assert (await read_reply(reader)).status == 200  # type: ignore[union-attr]
            started = time.monotonic()
            assert await server_closed(reader, within=3)
            assert 0.25 < time.monotonic() - started < 2
            writer.close()

    run(scenario())


def test_silent_new_connection_is_closed_after_the_head_timeout() -> None:
    async def scenario() -> None:
        async with serving(head_timeout=0.3) as listener:
            reader, writer = await connect(listener)
            assert await server_closed(reader, within=3)
            writer.close()

    run(scenario())


# ------------------------------------------------------------------- shutdown


def test_close_finishes_in_flight_requests_and_drops_idle_connections() -> None:
    async def scenario() -> None:
        app = DemoApp(release=asyncio.Event())
        listener = HttpListener("127.0.0.1:0", app)
        await listener.start()
        busy_reader, busy_writer = await connect(listener)
        idle_reader, _ = await connect(listener)
        busy_writer.write(get("/wait"))
        while not app.seen:
            await asyncio.sleep(0.01)
        closing = asyncio.ensure_future(listener.close(grace=5))
        assert await server_closed(idle_reader, within=1)
        assert not closing.done()
        app.release.set()  # type: ignore[union-attr]
        reply = await read_reply(busy_reader)
        assert reply is not None and reply.body == b"done"
        assert reply.header("Connection") == "close"
        busy_writer.close()
        await asyncio.wait_for(closing, 3)
        assert listener.connection_count == 0 and listener.bound_addresses == []

    run(scenario())


def test_close_aborts_what_outlives_the_grace_period() -> None:
    async def scenario() -> None:
        app = DemoApp(release=asyncio.Event())
        listener = HttpListener("127.0.0.1:0", app)
        await listener.start()
        reader, writer = await connect(listener)
        writer.write(get("/wait"))
        while not app.seen:
            await asyncio.sleep(0.01)
        await asyncio.wait_for(listener.close(grace=0.2), 3)
        assert await server_closed(reader, within=1)

    run(scenario())


# ------------------------------------------------------------------ Unix socket


def test_unix_socket_listener_with_file_mode(tmp_path: Path) -> None:
    path = str(tmp_path / "http.sock")

    async def scenario() -> None:
        async with serving(address=path, file_mode=0o600) as listener:
            assert listener.bound_addresses == [path]
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
            reader, writer = await asyncio.open_unix_connection(path)
            writer.write(get("/conn") + get("/hello"))
            info = (await read_reply(reader)).body.decode()  # type: ignore[union-attr]
            assert info.endswith(f" {path} None None")
            assert (await read_reply(reader)).body == HELLO  # type: ignore[union-attr]
            writer.close()
        assert not os.path.exists(path)

    run(scenario())


def test_unix_socket_path_rules(tmp_path: Path) -> None:
    stale = tmp_path / "stale.sock"
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(stale))
    dead.close()  # leaves the file with nobody listening
    regular = tmp_path / "file"
    regular.write_text("not a socket")

    async def scenario() -> None:
        async with serving(address=str(stale)) as listener:
            assert listener.bound_addresses == [str(stale)]
            with pytest.raises(ListenerError, match="another server is listening"):
                await HttpListener(str(stale), DemoApp()).start()
        with pytest.raises(ListenerError, match="exists and is not a socket"):
            await HttpListener(str(regular), DemoApp()).start()

    run(scenario())


def test_a_streamed_write_reaches_the_client_while_the_dispatcher_runs() -> None:
    """response_flush promises the bytes go out now, not with the next write."""

    async def scenario() -> None:
        release = asyncio.Event()

        async def progress(request: Request, sink: ResponseSink) -> None:
            sink.start(200, "OK", [], None)
            sink.write(b"step 1 done\n")
            await release.wait()
            sink.write(b"all done\n")
            sink.end()

        async with serving(progress) as listener:
            reader, writer = await connect(listener)
            writer.write(get("/progress"))
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
            assert b"Transfer-Encoding: chunked" in head
            first_chunk = await asyncio.wait_for(reader.readuntil(b"step 1 done\n\r\n"), 2)
            assert first_chunk.endswith(b"step 1 done\n\r\n")
            release.set()
            rest = await asyncio.wait_for(reader.readuntil(b"0\r\n\r\n"), 2)
            assert b"all done\n" in rest
            writer.close()

    run(scenario())


def test_a_streamed_head_is_sent_before_any_body() -> None:
    """A first response_flush with nothing pending still commits the head: a client
    (an event stream, a long poll) sees it at once."""

    async def scenario() -> None:
        release = asyncio.Event()

        async def head_first(request: Request, sink: ResponseSink) -> None:
            sink.start(200, "OK", [("Content-Type", "text/event-stream")], None)
            await release.wait()
            sink.write(b"data: hi\n\n")
            sink.end()

        async with serving(head_first) as listener:
            reader, writer = await connect(listener)
            writer.write(get("/events"))
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            release.set()
            assert b"data: hi" in await asyncio.wait_for(reader.readuntil(b"0\r\n\r\n"), 2)
            writer.close()

    run(scenario())


def test_a_plain_request_is_answered_in_the_callback_and_a_yield_runs_in_a_task() -> None:
    """A handler that does not suspend is answered without a task; one that yields to a
    service gets a task for it (libraries such as aiohttp and asyncio.timeout need one)."""
    from momentum_httpsrv.httpsrv.dispatch import Dispatcher
    from momentum_httpsrv.httpsrv.lua_binding import LuaHttpsrvBinding
    from momentum_httpsrv.lua.runtime import LuaState

    state = LuaState()
    binding = LuaHttpsrvBinding(state)
    seen_tasks: list[object] = []

    async def needs_a_task() -> tuple:
        seen_tasks.append(asyncio.current_task())
        async with asyncio.timeout(5):
            await asyncio.sleep(0)
        return ("served",)

    state.yield_services["needs_a_task"] = needs_a_task
    state.execute(
        'msys.httpsrv.register("GET", "/plain", function(s) s:response_append("plain") end)\n'
        'msys.httpsrv.register("GET", "/yields", function(s)\n'
        '  s:response_append(coroutine.yield("needs_a_task"))\nend)\n',
        "@site.lua",
    )
    dispatcher = Dispatcher(binding.registry, lambda message, tb: None)
    tasks_made: list[object] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        made = loop.get_task_factory()
        loop.set_task_factory(
            lambda loop, coro, **kw: tasks_made.append(coro.__qualname__) or (
                made(loop, coro, **kw) if made else asyncio.Task(coro, loop=loop, **kw))
        )
        async with serving(dispatcher) as listener:
            reader, writer = await connect(listener)
            writer.write(get("/plain"))
            assert (await read_reply(reader)).body == b"plain"  # type: ignore[union-attr]
            assert "_Connection._finish_dispatch" not in tasks_made  # answered in the callback
            writer.write(get("/yields"))
            assert (await read_reply(reader)).body == b"served"  # type: ignore[union-attr]
            assert "_Connection._finish_dispatch" in tasks_made
            assert seen_tasks and seen_tasks[0] is not None
            writer.close()

    run(scenario())
