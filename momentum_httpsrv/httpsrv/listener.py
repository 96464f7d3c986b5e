"""The asyncio side of an HTTP listener: sockets, timers, back-pressure, dispatch.

HTTP itself lives in an ``HttpProtocol`` (llhttp's or h11's, as
``ListenerSettings.parser`` says); this module moves bytes between it and the
socket and calls the dispatcher once per request, strictly one request at a time per
connection. One task per connection runs the request loop, and one timer handle per
connection serves every timeout (head deadline, body progress, idle, lingering close).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import traceback
from collections.abc import Callable, Coroutine
from typing import Any

from ..netlistener import ListenSocket, NetListenerError
from .access_log import AccessLog
from .h11_protocol import H11Protocol
from .httptools_protocol import HttptoolsProtocol
from .protocol import (
    CLOSE,
    NEED_DATA,
    SERVER_ERROR_HEADERS,
    HttpProtocol,
    Interim,
    ListenerSettings,
    Reject,
    ResponseError,
    reason_for,
)
from .requests import ConnectionInfo, Request, next_connection_id
from .responses import ResponseSink, http_date
from .tls import verified_subject_cn

__all__ = ["Dispatch", "HttpListener", "ListenerError", "ListenerSettings", "http_date"]

# A dispatch serves a request as far as it can at once: None when the response is
# complete, else a coroutine, which the listener steps by hand (send) before it makes it
# a task (an ``async def`` dispatch is such a coroutine from the start).
Dispatch = Callable[[Request, ResponseSink], Coroutine[Any, Any, None] | None]

_log = logging.getLogger(__name__)

_PAUSE_READING_AT = 512 * 1024  # unparsed input kept before the socket stops being read
_LINGER_SECONDS = 2.0  # after our last byte, wait this long for the client's FIN
_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST
PARSERS: dict[str, type[HttpProtocol]] = {"httptools": HttptoolsProtocol, "h11": H11Protocol}


def run_event_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run a server's main coroutine on uvloop where it is installed (Linux, macOS),
    else on asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


class ListenerError(NetListenerError):
    """An HTTP listener could not start (bad address, port in use, socket path taken)."""

    kind = "HTTP listener"


class HttpListener:
    """Serves HTTP/1.1 on one ``Listen`` address, handing each request to ``dispatch``."""

    def __init__(
        self,
        address: str,
        dispatch: Dispatch,
        settings: ListenerSettings | None = None,
        log: Callable[[str], None] | None = None,
        access_log: AccessLog | None = None,
        shared_as: str | None = None,
    ) -> None:
        self.address = address
        self.access_log = access_log
        # A worker of ``serve --workers``: bind this concrete address with SO_REUSEPORT,
        # beside the other workers (``address`` stays the configured one).
        self._shared_as = shared_as
        self.settings = settings or ListenerSettings()
        try:
            self._protocol_class = PARSERS[self.settings.parser]
        except KeyError:
            raise ListenerError(
                address,
                f"unknown HTTP parser {self.settings.parser!r}; use one of {', '.join(PARSERS)}",
            ) from None
        self._dispatch = dispatch
        self._log = log or _log.error
        self._socket: ListenSocket | None = None
        self._connections: set[_Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        """Bind and start accepting. Raises ListenerError naming the address on failure."""
        self._loop = asyncio.get_running_loop()
        self._socket = await ListenSocket.bind(
            self._shared_as or self.address,
            lambda: _Connection(self),
            backlog=self.settings.listen_backlog,
            file_mode=self.settings.file_mode,
            error=ListenerError,
            ssl_context=self.settings.ssl_context,
            handshake_timeout=self.settings.head_timeout,
            reuse_port=self._shared_as is not None,
        )

    @property
    def bound_addresses(self) -> list[tuple[str, int] | str]:
        """What the sockets are actually bound to: (host, port) pairs or a Unix path."""
        return [] if self._socket is None else self._socket.bound_addresses

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    async def close(self, grace: float = 5.0) -> None:
        """Stop accepting, let in-flight requests finish for up to ``grace`` seconds,
        close idle connections at once, abort whatever remains, and return."""
        if self._socket is not None:
            self._socket.stop_accepting()
        connections = list(self._connections)
        for connection in connections:
            connection.shut_down()
        if connections:
            await asyncio.wait([c.closed for c in connections], timeout=grace)
            for connection in connections:
                connection.abort()
            tasks = [c.task for c in connections if c.task is not None and not c.task.done()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks)
        if self._socket is not None:
            await self._socket.close()
            self._socket = None


def _ip_port(name: object) -> tuple[str, int] | None:
    if isinstance(name, tuple) and len(name) >= 2:
        return (name[0], name[1])
    return None


class _Connection(asyncio.Protocol):
    """One client connection: feeds the protocol, runs the request loop, owns the timer."""

    __slots__ = (
        "_listener",
        "_loop",
        "_settings",
        "_transport",
        "_proto",
        "task",
        "_advancing",
        "_timer",
        "_reading_paused",
        "_writing_paused",
        "_drain_waiter",
        "_lost",
        "_peer_eof",
        "closed",
        "_lingering",
        "_shutting_down",
        "_dispatching",
        "_dispatch_started",
    )

    def __init__(self, listener: HttpListener) -> None:
        self._listener = listener
        self._settings = listener.settings
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._proto: HttpProtocol | None = None
        self.task: asyncio.Task[None] | None = None  # a dispatch that suspended
        self._advancing = False  # _advance is on the stack (a callback inside it)
        self._timer: asyncio.TimerHandle | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._lost = False
        self._peer_eof = False
        self.closed: asyncio.Future[None] = self._loop.create_future()
        self._lingering = False
        self._shutting_down = False
        self._dispatching = False
        self._dispatch_started = 0.0  # loop time the dispatch began (the access log's)

    # ------------------------------------------------------- asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses; both have its methods
        self._transport = transport  # type: ignore[assignment]
        tls = self._settings.ssl_context is not None  # called once the handshake succeeded
        info = ConnectionInfo(
            conn_id=next_connection_id(),
            listener=self._listener.address,
            peer=_ip_port(transport.get_extra_info("peername")),
            local=_ip_port(transport.get_extra_info("sockname")),
            scheme="https" if tls else "http",
            subject_cn=verified_subject_cn(transport.get_extra_info("peercert")) if tls else None,
        )
        self._proto = self._listener._protocol_class(self._settings, self._loop.time(), info)
        self._listener._connections.add(self)
        self._advance()

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return
        proto = self._proto
        assert proto is not None
        proto.feed(data, self._loop.time())
        if proto.buffered > _PAUSE_READING_AT and not self._reading_paused:
            self._reading_paused = True
            self._transport.pause_reading()  # type: ignore[union-attr]
        self._wake()

    def eof_received(self) -> bool:
        if self._lingering:
            return False  # the client has read our last byte and closed: done
        assert self._proto is not None
        self._peer_eof = True
        self._proto.feed_eof()
        self._wake()
        # keep the write side open for responses still due; asyncio's TLS transport
        # cannot half-close (it warns and closes), so there the connection ends here
        return self._settings.ssl_context is None

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._wake()
        self._wake_drain()
        self._listener._connections.discard(self)
        if not self.closed.done():
            self.closed.set_result(None)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._wake_drain()

    # ----------------------------------------------------------- request loop

    def _wake(self) -> None:
        """Something changed (bytes, end of input, a timeout): act on it now, unless a
        dispatch is running (it continues the loop when it ends)."""
        if self.task is None and not self._advancing:
            self._advance()

    def _advance(self) -> None:
        """The request loop, run in the protocol callbacks: a request whose handler does
        not suspend is answered here and now, without a task; one that suspends
        continues in a task (``_finish_dispatch``), which resumes the loop at its end."""
        proto = self._proto
        assert proto is not None
        self._advancing = True
        try:
            while not (self._lost or self._lingering):
                event = proto.next_event()
                if event is NEED_DATA:
                    self._arm_timer()
                    if self._reading_paused:
                        self._reading_paused = False
                        self._transport.resume_reading()  # type: ignore[union-attr]
                    return
                if type(event) is Request:
                    if not self._dispatch(event):
                        return  # suspended: the task takes over
                elif type(event) is Interim:
                    self._write(event.data)
                elif type(event) is Reject:
                    self._send_error(event.status)
                else:
                    assert event is CLOSE
                    self._close()
                    return
        except Exception:
            self._failed(proto)
        finally:
            self._advancing = False

    def _failed(self, proto: HttpProtocol) -> None:
        self._listener._log(
            f"HTTP listener {self._listener.address}: connection "
            f"{proto.connection.conn_id} failed:\n{traceback.format_exc()}"
        )
        self.abort()

    def _dispatch(self, request: Request) -> bool:
        """Start the dispatcher on ``request`` and run it as far as it goes without
        waiting; True when it finished (the response is complete or failed)."""
        proto = self._proto
        assert proto is not None
        if self._shutting_down:
            proto.close_after_response()
        sink = _ConnectionSink(self)
        self._dispatching = True
        self._dispatch_started = self._loop.time()
        try:
            running = self._listener._dispatch(request, sink)
            waiting_on = None if running is None else running.send(None)
        except StopIteration:
            running = None
        except Exception:
            self._dispatched(request, sink, "dispatcher raised:\n" + traceback.format_exc())
            return True
        if running is None:  # answered at once, or the coroutine ended in its first step
            self._dispatched(request, sink, None)
            return True
        self.task = self._loop.create_task(
            self._finish_dispatch(running, waiting_on, request, sink)
        )
        return False

    async def _finish_dispatch(
        self, running: Coroutine[Any, Any, None], waiting_on: asyncio.Future[Any] | None,
        request: Request,
        sink: _ConnectionSink,
    ) -> None:
        """Drive a dispatch that suspended to its end, within Response_Timeout of its
        start, then go on with the request loop."""
        failure: str | None = None
        timeout = self._listener.settings.response_timeout
        try:
            async with asyncio.timeout_at(self._dispatch_started + timeout if timeout else None):
                await _drive(running, waiting_on)
        except TimeoutError:
            failure = f"no response within Response_Timeout ({timeout:g} s)"
        except Exception:
            failure = "dispatcher raised:\n" + traceback.format_exc()
        except BaseException:
            self._dispatching = False
            sink.ended = True
            raise
        finally:
            self.task = None
        self._dispatched(request, sink, failure)
        self._advance()

    def _dispatched(self, request: Request, sink: _ConnectionSink, failure: str | None) -> None:
        """The dispatcher ended (``failure`` says why it failed): make sure a response is
        complete, and log it."""
        proto = self._proto
        assert proto is not None
        self._dispatching = False
        try:
            if failure is not None:
                self._report(request, failure)
                if not proto.response_started and proto.awaiting_response:
                    self._send_error(500)
                elif not sink.ended:
                    sink.abort()
            elif proto.awaiting_response:
                self._report(request, "dispatcher returned without starting a response")
                self._send_error(500)
            elif not sink.ended:
                sink.end()
        finally:
            sink.ended = True  # a sink kept past its request must not reach the next one
            access_log = self._listener.access_log
            if access_log is not None:  # no status: the listener answered 500 itself
                access_log.request(request, sink.status or 500, sink.body_bytes,
                                   self._loop.time() - self._dispatch_started)

    def _report(self, request: Request, what: str) -> None:
        info = request.connection
        self._listener._log(
            f"HTTP listener {info.listener}: connection {info.conn_id}: "
            f"{request.method} {request.target}: {what}"
        )

    def _send_error(self, status: int) -> None:
        """A response the server generates itself, with an empty body
        (docs/request-lifecycle.md#responses-the-server-makes-itself)."""
        proto = self._proto
        assert proto is not None
        head = proto.start_response(
            status, reason_for(status), SERVER_ERROR_HEADERS, 0, http_date()
        )
        self._write(head + proto.end_response(self._loop.time()))

    def _write(self, data: bytes) -> None:
        if not self._lost and data:
            self._transport.write(data)  # type: ignore[union-attr]

    # ----------------------------------------------------------------- timers

    def _arm_timer(self) -> None:
        deadline = self._proto.deadline  # type: ignore[union-attr]
        if deadline is None:
            return
        timer = self._timer
        if timer is not None:
            if timer.when() <= deadline:
                return  # fires early, finds the later deadline, re-arms
            timer.cancel()
        self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if self._proto.expire(self._loop.time()):  # type: ignore[union-attr]
            self._wake()
        else:
            self._arm_timer()

    # ------------------------------------------------------------ back-pressure

    def _wake_drain(self) -> None:
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def wait_writable(self) -> None:
        """Return once the socket buffer is below its high-water mark; a client that
        reads nothing for ``send_timeout`` seconds is dropped."""
        if not self._writing_paused or self._lost:
            return
        waiter = self._loop.create_future()
        self._drain_waiter = waiter
        stalled = self._loop.call_later(self._settings.send_timeout, self.abort)
        try:
            await waiter
        finally:
            stalled.cancel()

    # ---------------------------------------------------------------- closing

    def shut_down(self) -> None:
        """Server shutdown: finish the request in progress, then close; close at once
        between requests."""
        self._shutting_down = True
        self._proto.close_after_response()  # type: ignore[union-attr]
        if not (self._dispatching or self._lingering or self._lost):
            self._transport.close()  # type: ignore[union-attr]

    def abort(self) -> None:
        if not self._lost and self._transport is not None:
            self._transport.abort()

    def reset(self) -> None:
        """Drop the connection with a TCP reset, discarding unsent bytes: a plain close
        would send FIN, which ends a close-delimited body as if it were complete."""
        if self._lost or self._transport is None:
            return
        sock = self._transport.get_extra_info("socket")
        if sock is not None and sock.family != socket.AF_UNIX:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        self._transport.abort()

    def _close(self) -> None:
        """Lingering close: send FIN after the last response, keep reading (and dropping)
        until the client closes or ``_LINGER_SECONDS`` pass, so that unread request bytes
        do not turn into a TCP reset that destroys the response in flight."""
        transport = self._transport
        if self._lost or self._lingering or transport is None or transport.is_closing():
            return
        self._lingering = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._peer_eof or not transport.can_write_eof():
            transport.close()
            return
        if self._reading_paused:
            self._reading_paused = False
            transport.resume_reading()
        try:
            transport.write_eof()
        except OSError:  # the client reset the connection already
            transport.abort()
            return
        self._timer = self._loop.call_later(
            _LINGER_SECONDS, self._end_linger, transport.get_write_buffer_size()
        )

    def _end_linger(self, unsent_before: int) -> None:
        transport = self._transport
        assert transport is not None
        unsent = transport.get_write_buffer_size()
        if unsent and unsent < unsent_before:  # still delivering the last response
            self._timer = self._loop.call_later(_LINGER_SECONDS, self._end_linger, unsent)
        elif unsent:
            transport.abort()
        else:
            transport.close()


async def _drive(
    running: Coroutine[Any, Any, None], waiting_on: asyncio.Future[Any] | None
) -> None:
    """Run a coroutine that was stepped by hand and is waiting on ``waiting_on`` to its
    end, as a task would: what it awaits is awaited here, a cancellation is thrown into it,
    and what it raises comes out."""
    try:
        while True:
            try:
                if waiting_on is None:  # a bare yield (asyncio.sleep(0))
                    await asyncio.sleep(0)
                else:
                    await asyncio.wait([waiting_on])
                    waiting_on._asyncio_future_blocking = False
                waiting_on = running.send(None)
            except asyncio.CancelledError as cancelled:
                waiting_on = running.throw(cancelled)
    except StopIteration:
        return


class _ConnectionSink:
    """The ResponseSink a dispatcher writes one response into. Body bytes go to the
    connection as they are written (``response_flush`` promises they leave now); the head
    of a known-length response waits for its body or the end, so it is one write."""

    __slots__ = ("_connection", "_proto", "_head", "ended", "status", "body_bytes")

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection
        self._proto = connection._proto
        self._head = b""
        self.ended = False
        self.status = 0  # and body bytes written: for the access log
        self.body_bytes = 0

    def start(
        self, status: int, reason: str, headers: list[tuple[str, str]], body_length: int | None
    ) -> None:
        if self.ended or self._proto.response_started:  # type: ignore[union-attr]
            raise ResponseError("the response was already started")
        self._head = self._proto.start_response(  # type: ignore[union-attr]
            status, reason, headers, body_length, http_date()
        )
        self.status = status
        if body_length is None:  # streamed: committed by a flush, which the client sees now
            self.flush()

    def write(self, data: bytes) -> None:
        if self.ended:
            raise ResponseError("write after end")
        framed = self._proto.body(data)  # type: ignore[union-attr]
        if framed:  # nothing goes out for HEAD, 204, 304
            self.body_bytes += len(data)
            self._send(framed)

    async def drain(self) -> None:
        self.flush()
        await self._connection.wait_writable()

    def end(self) -> None:
        if self.ended:
            raise ResponseError("the response was already ended")
        tail = self._proto.end_response(self._connection._loop.time())  # type: ignore[union-attr]
        self.ended = True
        self._send(tail)

    def respond(
        self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        if self.ended or self._proto.response_started:  # type: ignore[union-attr]
            raise ResponseError("the response was already started")
        connection = self._connection
        data, self.body_bytes = self._proto.respond(  # type: ignore[union-attr]
            status, reason, headers, body, http_date(), connection._loop.time()
        )
        self.status, self.ended = status, True
        connection._write(data)

    def flush(self) -> None:
        """Send a head that is still waiting for body bytes."""
        self._send(b"")

    def _send(self, data: bytes) -> None:
        if self._head:
            data, self._head = self._head + data, b""
        if data:
            self._connection._write(data)

    def abort(self) -> None:
        """The handler failed after the head went out: reset the connection so the client
        sees a truncated response. Before the head, only the sink dies (the listener
        still answers 500)."""
        if self.ended:
            return
        self.ended = True
        self._head = b""
        proto = self._proto
        assert proto is not None
        if proto.response_started:
            proto.abort_response()
            self._connection.reset()

    @property
    def peer_gone(self) -> bool:
        return self._connection._lost

    @property
    def buffered(self) -> int:
        """Body bytes written but not yet taken by the kernel (flush back-pressure)."""
        connection = self._connection
        transport = connection._transport
        if connection._lost or transport is None:
            return len(self._head)
        return len(self._head) + transport.get_write_buffer_size()
