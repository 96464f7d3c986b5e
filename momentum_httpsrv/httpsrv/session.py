"""``ec_httpsrv_session``: the per-request API of Momentum's HTTP server (docs/architecture.md).

Each method is one ``ec_httpsrv_*`` C function with the ``ec_httpsrv_`` prefix and the
``sess`` argument dropped (``ec_httpsrv_request_url_get(sess)`` → ``request_url_get()``),
which is also its Lua name (``session:request_url_get()``). C conventions are kept:
setters return 0 or an errno value; out-parameters become ``(rc, value…)`` tuples; NULL
becomes None. The Lua binding (``lua_binding.py``) adapts these to Lua return values.

Output model (docs/request-lifecycle.md#the-session-object): writers append to a pending
buffer; nothing reaches the client before ``response_flush`` or completion. The head is
committed by the first flush (streamed framing) or at completion (Content-Length).

Back-pressure (same section): ``response_flush`` hands the pending bytes to the sink and
returns EAGAIN when more than ``FLUSH_HIGH_WATER`` bytes then wait for the client; the
data is kept and goes out as the client reads. ``drain_output`` waits for that. A Lua
handler's ``session:response_flush`` does so itself — its coroutine is suspended until
the client has taken the backlog — so a blocking-style flush loop cannot make the
server buffer a non-reading client's whole response; it returns 0, or EPIPE when the
client left.
"""

from __future__ import annotations

import asyncio
import errno
import io
import socket
import threading
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Protocol

from .requests import ConnectionInfo, Request
from .responses import ResponseSink
from .url import UrlDetails, parse_url
from .wire import (
    FRAMING_HEADERS,
    MOMENTUM_REASONS,
    is_field_value,
    is_final_status,
    is_token,
    standard_reason,
    without_controls,
)

# Handler return codes (docs/request-lifecycle.md#handlers, values [PROP]).
HANDLER_DONE = 0
HANDLER_ASYNC = 1
# Bytes read from an IO object per chunk when streaming it to the client.
STREAM_CHUNK = 64 * 1024
# How long a stream whose reader reports EAGAIN waits before reading again.
_EAGAIN_RETRY_SECONDS = 0.01
# Bytes a flush may leave waiting for the client before it answers EAGAIN.
FLUSH_HIGH_WATER = 1 << 20


class IoSource(Protocol):
    """What ``response_io`` reads: Momentum's io_object reduced to block reads. ``read``
    returns b"" at the end and raises BlockingIOError for EAGAIN."""

    def read(self, size: int) -> bytes: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SocketAddress:
    """An ``ec_sockaddr``: family, host and port; ``str()`` is ``ip:port``/``[ip6]:port``."""

    host: str
    port: int

    @property
    def family(self) -> int:
        return socket.AF_INET6 if ":" in self.host else socket.AF_INET

    def __str__(self) -> str:
        host = f"[{self.host}]" if self.family == socket.AF_INET6 else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class SchedulerInstance:
    """``ec_scheduler_inst``: the event loop that owns a session; work for that loop is
    queued with ``call_soon_threadsafe`` from any thread."""

    loop: asyncio.AbstractEventLoop | None
    name: str = "master"

    def call_soon_threadsafe(self, callback, *args: object) -> None:
        if self.loop is None:
            raise RuntimeError("the session has no event loop (offline call)")
        self.loop.call_soon_threadsafe(callback, *args)


@dataclass(frozen=True)
class SessionEvent:
    """The ``Event`` of a session: its connection and the loop it is scheduled on. Valid
    only during the call that obtained it (docs/request-lifecycle.md#the-session-object)."""

    connection: ConnectionInfo
    scheduler: SchedulerInstance
    closure: object


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _parse_content_type(value: str) -> tuple[str, str | None]:
    media_type, *params = value.split(";")
    charset = None
    for param in params:
        key, _, raw = param.partition("=")
        if key.strip().lower() == "charset":
            charset = raw.strip().strip('"')
            break
    return media_type.strip(), charset


def sanitise_reason(message: str) -> str:
    """Reason phrases may not carry CR, LF or other control characters
    (docs/request-lifecycle.md#the-session-object)."""
    return without_controls(message)


@dataclass(slots=True)
class SessionHandover:
    """What a plain handler (``serve_plain``, docs/request-lifecycle.md#dispatch) gives
    back when it could not finish without a session: the session it made, with the
    response adopted, and an awaitable that finishes the handler (None: it ended)."""

    session: HttpSession
    pending: Awaitable[object] | None


class HttpSession:
    """One request/response exchange, independent of any socket."""

    def __init__(self, request: Request, sink: ResponseSink, closure: object = None) -> None:
        self.request = request
        self._sink = sink
        self.service_closure = closure
        # Set by authentication (docs/request-lifecycle.md#access-control-and-authentication).
        self.auth_user: str | None = None
        self._loop = _running_loop()
        self._scheduler: SchedulerInstance | None = None
        self._url: UrlDetails | None = None
        self.status = 200
        self.reason = "OK"
        self._std_message: str | None = None
        self._headers: list[tuple[str, str]] = []
        # Pending output in order: byte buffers and IO objects still to be streamed.
        self._pending = bytearray()
        self._queued: list[bytearray | IoSource] = []
        self._produced_body = False
        self._sink_ended = False
        self._ctx: object = None
        self.committed = False
        self.output_closed = False
        self.completed = False
        self.ignored_framing_headers: list[str] = []
        # Suspend/resume (docs/request-lifecycle.md#suspend-and-resume): ``_resume`` holds
        # the finished flag of a resume that has not been taken yet; it may arrive before
        # the handler returned ASYNC.
        self._state_lock = threading.Lock()
        self._owner_thread = threading.get_ident()
        self.suspended = False
        self._resume: int | None = None
        self._resumed: asyncio.Event | None = None  # made by the first suspend

    @property
    def scheduler(self) -> SchedulerInstance:
        """The loop that owns the session, as ``ec_scheduler_inst`` (made on first use)."""
        if self._scheduler is None:
            self._scheduler = SchedulerInstance(self._loop)
        return self._scheduler

    # -- request inspection ---------------------------------------------------------

    @property
    def url(self) -> UrlDetails:
        """Parsed lazily once; the dispatcher reads it first, so a bad target is a 400."""
        if self._url is None:
            self._url = parse_url(self.request.target)
        return self._url

    def request_url_get(self) -> UrlDetails:
        """ec_httpsrv_request_url_get: the parsed request URL, owned by the session."""
        return self.url

    def request_method_get(self) -> str:
        """ec_httpsrv_request_method_get: the method exactly as the client sent it."""
        return self.request.method

    def request_header_get(self, name: str) -> tuple[int, str | None]:
        """ec_httpsrv_request_header_get: first occurrence, case-insensitive; ENOENT if absent."""
        value = self.request.header(name)
        return (errno.ENOENT, None) if value is None else (0, value)

    def request_content_type_get(self) -> tuple[int, str | None, str | None]:
        """ec_httpsrv_request_content_type_get: media type without parameters and the
        charset parameter (None when absent); ENOENT without a Content-Type header."""
        value = self.request.header("Content-Type")
        if value is None:
            return errno.ENOENT, None, None
        return (0, *_parse_content_type(value))

    def request_username_get(self) -> str | None:
        """ec_httpsrv_request_username_get: the authenticated user, or None."""
        return self.auth_user

    def request_subject_cn_get(self) -> str | None:
        """ec_httpsrv_request_subject_cn_get: CN of a verified client certificate, or None
        (the listener reads it from the connection's TLS handshake)."""
        return self.request.connection.subject_cn

    def request_accept_construct_get(self) -> ConnectionInfo:
        """ec_httpsrv_request_accept_construct_get: the connection's accept construct."""
        return self.request.connection

    def request_local_address(self) -> SocketAddress | None:
        """ec_httpsrv_request_local_address: the bound local address (None offline)."""
        local = self.request.connection.local
        return SocketAddress(*local) if local else None

    def request_peer_address(self) -> SocketAddress | None:
        """ec_httpsrv_request_peer_address: the client's address (None offline)."""
        peer = self.request.connection.peer
        return SocketAddress(*peer) if peer else None

    def request_event_get(self) -> SessionEvent:
        """ec_httpsrv_request_event_get: a fresh wrapper on every call, never cached."""
        return SessionEvent(self.request.connection, self.scheduler, self)

    def request_event_get_scheduler_inst(self) -> SchedulerInstance:
        """ec_httpsrv_request_event_get_scheduler_inst: the loop that owns the session."""
        return self.scheduler

    # -- context --------------------------------------------------------------------

    def service_ctx_get(self) -> object:
        """ec_httpsrv_service_ctx_get: the closure given at registration, or None."""
        return self.service_closure

    def ctx_set(self, value: object) -> None:
        """ec_httpsrv_ctx_set: per-request state; None clears; dropped at completion."""
        self._ctx = value

    def ctx_get(self) -> object:
        """ec_httpsrv_ctx_get: what ctx_set stored, or None."""
        return self._ctx

    # -- request payload ------------------------------------------------------------

    def request_data_get(self) -> tuple[int, io.BytesIO]:
        """ec_httpsrv_request_data_get: a new handle at offset 0 of the payload per call."""
        return 0, io.BytesIO(self.request.body)

    def request_data_get_string(self) -> tuple[int, bytes]:
        """ec_httpsrv_request_data_get_string: the whole (de-chunked) payload."""
        return 0, self.request.body

    # -- response status ------------------------------------------------------------

    def response_status_set(self, code: int, message: str | None) -> int:
        """ec_httpsrv_response_status_set: code and reason phrase; nothing else. EINVAL
        for a code that is no final response (1xx) or does not fit the status line."""
        if self.committed:
            return errno.EALREADY
        if not is_final_status(code):
            return errno.EINVAL
        self.status = code
        self.reason = sanitise_reason(message) if message is not None else standard_reason(code)
        self._std_message = None
        return 0

    def response_status_set_std(self, code: int, message: str | None, mimetype: str | None) -> int:
        """ec_httpsrv_response_status_set_std: status, optional Content-Type, and the message
        also becomes the body if the handler produces none (std_message_mode
        ``reason+body-if-empty``, the decision of docs/request-lifecycle.md#the-session-object)."""
        rc = self.response_status_set(code, message)
        if rc:
            return rc
        self._std_message = message or None
        if mimetype is not None:
            return self.response_header_set("Content-Type", mimetype)
        return 0

    def response_status_ok(self, mimetype: str | None) -> int:
        """ec_httpsrv_response_status_ok: ``200 OK`` plus Content-Type."""
        return self._status_helper(200, mimetype)

    def response_status_error(self, mimetype: str | None) -> int:
        """ec_httpsrv_response_status_error: ``500 ERROR`` plus Content-Type."""
        return self._status_helper(500, mimetype)

    def response_status_denied(self, mimetype: str | None) -> int:
        """ec_httpsrv_response_status_denied: ``403 DENIED`` plus Content-Type."""
        return self._status_helper(403, mimetype)

    def response_status_not_found(self, mimetype: str | None) -> int:
        """ec_httpsrv_response_status_not_found: ``404 NOT FOUND`` plus Content-Type."""
        return self._status_helper(404, mimetype)

    def _status_helper(self, code: int, mimetype: str | None) -> int:
        rc = self.response_status_set_std(code, MOMENTUM_REASONS[code], mimetype)
        self._std_message = None  # the helpers' phrase is a status line, never a body
        return rc

    # -- response headers -----------------------------------------------------------

    def response_header_set(self, name: str, value: str | None) -> int:
        """ec_httpsrv_response_header_set: replace-or-add; None removes. EINVAL for what
        the wire cannot carry: a name that is not a token, a value with a control
        character other than HTAB (CR, LF, NUL…)."""
        if self.committed:
            return errno.EALREADY
        if not is_token(name) or (value is not None and not is_field_value(value)):
            return errno.EINVAL
        wanted = name.lower()
        self._headers = [(k, v) for k, v in self._headers if k.lower() != wanted]
        if value is not None:
            self._headers.append((name, value))
        return 0

    def has_response_header(self, name: str) -> bool:
        """Whether a header of that name is set (json/xml writers default Content-Type)."""
        wanted = name.lower()
        return any(key.lower() == wanted for key, _ in self._headers)

    def adopt_response(
        self, status: int, reason: str, std_message: str | None, body: str, *fields: str
    ) -> None:
        """The response a binding kept on its side while its handler ran (session.lua, so
        that a plain request crosses once), with this class's setter rules already
        applied there: status, reason, std message, body, then header names and values."""
        self.status, self.reason, self._std_message = int(status), reason, std_message
        self._headers = field_pairs(fields, 0)
        if body:
            self._pending += body.encode("latin-1")
            self._produced_body = True

    @property
    def peer_gone(self) -> bool:
        """The client has disconnected (its output is discarded)."""
        return self._sink.peer_gone

    # -- response body --------------------------------------------------------------

    def response_append(self, data: bytes) -> int:
        """ec_httpsrv_response_append: add bytes to the pending output; EPIPE (and
        nothing kept) once the client has gone, so a handler that keeps writing cannot
        grow memory (a departed client's output is discarded: docs/request-lifecycle.md)."""
        if self.output_closed:
            return errno.EALREADY
        if self._sink.peer_gone:
            return errno.EPIPE
        if data:
            self._pending += data
            self._produced_body = True
        return 0

    def response_printf(self, fmt: str, *args: object) -> int:
        """ec_httpsrv_response_printf: C-style formatting, then append."""
        return self.response_vprintf(fmt, args)

    def response_vprintf(self, fmt: str, args: Sequence[object]) -> int:
        """ec_httpsrv_response_vprintf: printf with the arguments as one sequence."""
        try:
            text = fmt % tuple(args) if args else fmt
        except (TypeError, ValueError):
            return errno.EINVAL
        return self.response_append(text.encode("latin-1", "replace"))

    def response_string(self, data: bytes | bytearray) -> int:
        """ec_httpsrv_response_string: copy an ec_string's bytes into the output now."""
        return self.response_append(bytes(data))

    def response_io(self, source: IoSource, immediate: int) -> int:
        """ec_httpsrv_response_io: ``immediate`` reads ``source`` to its end now (EAGAIN
        keeps what was read; call again to continue); otherwise the session keeps the
        object and streams it after the output pending before it, then closes it."""
        if self.output_closed:
            return errno.EALREADY
        if not immediate:
            self._queued.append(self._pending)
            self._queued.append(source)
            self._pending = bytearray()
            self._produced_body = True
            return 0
        while True:
            try:
                chunk = source.read(STREAM_CHUNK)
            except BlockingIOError:
                return errno.EAGAIN
            if not chunk:
                return 0
            self.response_append(chunk)

    def response_flush(self, final: int = 0) -> int:
        """ec_httpsrv_response_flush: commit the head (streamed framing) and send what is
        pending; ``final`` ends the body, after which writers return EALREADY. Output
        queued behind an IO object still being streamed waits for completion."""
        if self.output_closed:
            return errno.EALREADY
        if self._sink.peer_gone:
            return errno.EPIPE
        if not self.committed:
            self._commit(body_length=None)
        if not self._queued and self._pending:
            self._sink.write(bytes(self._pending))
            self._pending.clear()
        elif self._queued and self._queued[0]:
            first = self._queued[0]
            if isinstance(first, bytearray):
                self._sink.write(bytes(first))
                first.clear()
        if final:
            self.output_closed = True
            if not self._queued:
                self._end()
        return errno.EAGAIN if self.output_backlog > FLUSH_HIGH_WATER else 0

    @property
    def output_backlog(self) -> int:
        """Bytes handed to the sink that the client has not taken yet (0 for sinks that
        do not say, such as the offline CollectingSink)."""
        return getattr(self._sink, "buffered", 0)

    async def drain_output(self) -> int:
        """Wait until the backlog is at most ``FLUSH_HIGH_WATER``: 0, or EPIPE once the
        client is gone."""
        while not self._sink.peer_gone and self.output_backlog > FLUSH_HIGH_WATER:
            await self._sink.drain()
        return errno.EPIPE if self._sink.peer_gone else 0

    # -- suspend and resume (docs/request-lifecycle.md#suspend-and-resume) ---------

    def session_suspend(self) -> int:
        """ec_httpsrv_session_suspend: only on the session's own thread; EBADF when
        already suspended."""
        if threading.get_ident() != self._owner_thread:
            return errno.EINVAL
        with self._state_lock:
            if self.completed:
                return errno.EBADF
            if self.suspended:
                return errno.EBADF
            self.suspended = True
            if self._resumed is None:
                self._resumed = asyncio.Event()
            return 0

    def session_resume(self, finished: int) -> int:
        """ec_httpsrv_session_resume: from any thread. ``finished`` 0 runs the handler
        again; non-zero completes as if it returned DONE. A resume arriving before the
        handler returned ASYNC is queued. EINVAL if not suspended, EBADF if completed."""
        with self._state_lock:
            if self.completed:
                return errno.EBADF
            if not self.suspended or self._resume is not None:
                return errno.EINVAL
            self._resume = 1 if finished else 0
        resumed = self._resumed
        assert resumed is not None  # made by session_suspend
        loop = self._loop
        if loop is not None and threading.get_ident() != self._owner_thread:
            loop.call_soon_threadsafe(resumed.set)
        else:
            resumed.set()
        return 0

    def take_resume(self) -> int | None:
        """Apply a pending resume: back to DISPATCHED; returns its finished flag, or None
        when no resume has arrived."""
        with self._state_lock:
            finished, self._resume = self._resume, None
            if finished is not None:
                self.suspended = False
                if self._resumed is not None:
                    self._resumed.clear()
            return finished

    async def wait_resumed(self) -> int:
        """After the handler returned ASYNC: wait for ``session_resume`` and take it."""
        while (finished := self.take_resume()) is None:
            assert self._resumed is not None  # made by session_suspend
            await self._resumed.wait()
        return finished

    # -- completion -----------------------------------------------------------------

    def complete_now(self) -> bool:
        """``complete`` when nothing is streamed (no IO object queued, no head sent):
        done here and True; otherwise False, and ``complete`` must run."""
        if self.completed:
            return True
        if self.committed or self._queued:
            return False
        self.completed = True
        self._ctx = None
        try:
            body = bytes(self._pending)
            if not self._produced_body and self._std_message:
                body = self._std_message.encode("latin-1")
            self._pending.clear()
            self.committed = self._sink_ended = True
            self.ignored_framing_headers += respond_whole(
                self._sink, self.status, self.reason, self._headers, body
            )
        except BaseException:
            self._sink.abort()
            raise
        return True

    async def complete(self) -> None:
        """The handler is DONE: send whatever has not been sent and end the response,
        streaming queued IO objects chunk by chunk with back-pressure. An IO read error
        propagates after the connection has been cut (the status already went out)."""
        if self.complete_now():
            return
        self.completed = True
        self._ctx = None
        try:
            if not self.committed:
                self._commit(body_length=None)
            self._queued.append(self._pending)
            self._pending = bytearray()
            await self._send_queued()
            self.output_closed = True
            self._end()
        except BaseException:
            self._sink.abort()
            raise
        finally:
            self._release_queued()

    async def _send_queued(self) -> None:
        while self._queued:
            item = self._queued.pop(0)
            if isinstance(item, bytearray):
                if item and not self._sink.peer_gone:
                    self._sink.write(bytes(item))
                continue
            try:
                while not self._sink.peer_gone:
                    try:
                        chunk = item.read(STREAM_CHUNK)
                    except BlockingIOError:
                        await asyncio.sleep(_EAGAIN_RETRY_SECONDS)
                        continue
                    if not chunk:
                        break
                    self._sink.write(chunk)
                    await self._sink.drain()
            finally:
                item.close()

    def _release_queued(self) -> None:
        """Drop the references the session took on IO objects it did not stream."""
        for item in self._queued:
            if not isinstance(item, bytearray):
                item.close()
        self._queued.clear()

    def _end(self) -> None:
        if not self._sink_ended:
            self._sink_ended = True
            self._sink.end()

    def fail(self) -> None:
        """A handler error: ``500 ERROR`` if nothing went out yet; else the sink must cut the
        connection, because the status can no longer change
        (docs/request-lifecycle.md#responses-the-server-makes-itself)."""
        self.completed = True
        self._ctx = None
        self._release_queued()
        if self.committed:
            self.output_closed = True
            self._sink.abort()
            return
        self._headers = [("Content-Type", "text/plain")]
        self.status, self.reason = 500, MOMENTUM_REASONS[500]
        self._commit(body_length=0)
        self._end()

    def _commit(self, body_length: int | None) -> None:
        headers, ignored = without_framing_headers(self._headers)
        self.ignored_framing_headers += ignored
        self.committed = True
        self._sink.start(self.status, self.reason, headers, body_length)


def without_framing_headers(
    headers: list[tuple[str, str]],
) -> tuple[list[tuple[str, str]], list[str]]:
    """A handler's headers without the framing ones the server owns, and the names of
    those it dropped (docs/request-lifecycle.md#framing-and-server-owned-headers)."""
    kept: list[tuple[str, str]] = []
    ignored: list[str] = []
    for name, value in headers:
        if name.lower() in FRAMING_HEADERS:
            ignored.append(name)
        else:
            kept.append((name, value))
    return kept, ignored


def respond_whole(
    sink: ResponseSink, status: int, reason: str, headers: list[tuple[str, str]], body: bytes
) -> list[str]:
    """Send a complete response of known length in one go (``ResponseSink.respond``):
    what a handler that did not stream ends with, whether or not a session was made
    for it (docs/request-lifecycle.md#dispatch). Returns the framing headers dropped."""
    kept, ignored = without_framing_headers(headers)
    sink.respond(status, reason, kept, body)
    return ignored


def plain_response_parts(
    values: tuple,
) -> tuple[int, str, list[tuple[str, str]], bytes]:
    """A binding's kept response (status, reason, std message, body, header names and
    values: ``HttpSession.adopt_response``'s arguments) as status, reason, headers and
    the body that ``complete_now`` would send for it."""
    status, reason, std_message, body = values[:4]
    if body:
        data = body.encode("latin-1")
    else:
        data = std_message.encode("latin-1") if std_message else b""
    return int(status), reason, field_pairs(values, 4), data


def field_pairs(values: Sequence[str], start: int) -> list[tuple[str, str]]:
    """Header names and values given flat from ``values[start]`` on (as session.lua hands
    them over) as (name, value) pairs."""
    if (len(values) - start) % 2:
        raise ValueError("header fields are names and values: an odd number was given")
    return [(values[at], values[at + 1]) for at in range(start, len(values), 2)]
