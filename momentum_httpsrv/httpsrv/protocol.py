"""The server side of HTTP/1.1 as a sans-IO state machine: the interface and the rules.

Bytes go in (``feed``), complete requests come out (``next_event``); a response head and
body go in (``start_response`` / ``body`` / ``end_response``), framed bytes come out.
No sockets, no event loop, no clock: the caller passes the time in and owns the timer
that calls ``expire``. ``HttpProtocol`` holds everything that does not depend on how
bytes are parsed (states, timeouts, keep-alive, the server's own request and response
rules); a parser subclass supplies the parsing and the serialising:
``httptools_protocol.HttptoolsProtocol`` (llhttp, the default) or
``h11_protocol.H11Protocol`` (the conformance reference).
Strings are Latin-1 decoded bytes (package convention).
"""

from __future__ import annotations

import re
import ssl
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import cast

from .requests import OFFLINE_CONNECTION, ConnectionInfo, Request
from .wire import (
    FRAMING_HEADERS,
    MOMENTUM_REASONS,
    is_field_value,
    is_final_status,
    is_request_target,
    is_token,
    standard_reason,
)


@dataclass
class ListenerSettings:
    """Per-listener HTTP behaviour; the lead fills it from the HTTP_Listener/Listen scopes."""

    max_request_size: int | None = None  # Max_Request_Size: body bytes; None = unlimited
    idle_time: float = 0  # Idle_Time: seconds between requests; 0 = never (Momentum)
    disable_chunked: bool = False  # Disable_Chunked: streamed bodies are close-delimited
    listen_backlog: int = 500  # Listen_Backlog
    file_mode: int = 0o660  # File_Mode of a Unix-domain socket listener
    max_request_line: int = 8190  # longer request line -> 414
    max_head_size: int = 65536  # request line + headers + blank line; larger -> 431
    head_timeout: float = 10.0  # total deadline for a request head from its first byte
    body_timeout: float = 15.0  # no body progress for this long -> 408 and close
    send_timeout: float = 60.0  # a client that reads nothing for this long is dropped
    # Response_Timeout: seconds a request may wait for its handler's response (one that
    # suspended and never resumed); then 500, or a cut connection once output began.
    # 0 = never, as Momentum (which documents no such limit).
    response_timeout: float = 0
    parser: str = "httptools"  # "httptools" (llhttp), or "h11" (the conformance reference)
    # Use_SSL + TLS_* (docs/request-lifecycle.md#tls, built by httpsrv/tls.py): None = plain HTTP
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False)


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


NEED_DATA = _Marker("NEED_DATA")  # feed more bytes (or wait for the timer)
CLOSE = _Marker("CLOSE")  # nothing more to do: close the connection without a response

CONTINUE_RESPONSE = b"HTTP/1.1 100 Continue\r\n\r\n"


@dataclass(frozen=True, slots=True)
class Interim:
    """Bytes to send before the request body is read (``100 Continue``)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Reject:
    """The request cannot be served. Send ``status`` via ``start_response`` (the protocol
    has already decided to close), then close the connection. ``detail`` is for logs."""

    status: int
    detail: str


class ResponseError(RuntimeError):
    """The response given to the protocol is unusable (bad header, wrong order, bad length)."""


# Headers of the responses the server generates itself, with an empty plain-text body
# (docs/request-lifecycle.md#responses-the-server-makes-itself).
SERVER_ERROR_HEADERS = (("Content-Type", "text/plain"),)


def reason_for(status: int) -> str:
    """Reason phrase of a response the server makes itself (docs/request-lifecycle.md)."""
    return MOMENTUM_REASONS.get(status) or standard_reason(status)


# ------------------------------------------------------------ request rules

# A head may contain HTAB and CR LF line ends; any other control byte, a CR not ending a
# line, or a line starting with whitespace (obsolete line folding) is malformed.
_BAD_HEAD_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|\n[ \t]")
_CONTENT_LENGTH_FIELD = re.compile(rb"\ncontent-length:([^\n]*)", re.IGNORECASE)
_MAX_CONTENT_LENGTH_DIGITS = 18
_HTTP_VERSION = re.compile(r"[0-9]\.[0-9]")


def skip_empty_lines(buf: bytearray) -> None:
    """RFC 9112 §2.2: empty lines before a request line are ignored."""
    while buf and buf[0] in (10, 13) and (buf[0] == 10 or buf[:2] == b"\r\n"):
        del buf[: 1 if buf[0] == 10 else 2]


def find_head_end(
    buf: bytearray, scan_from: int, settings: ListenerSettings
) -> int | Reject | None:
    """Where the request head starting at ``buf[0]`` ends (just past its blank line); None
    while it is incomplete; a Reject for a request line over ``max_request_line`` (414),
    a head over ``max_head_size`` (431) or a control byte or folded line in the head (400).
    ``scan_from`` is where the previous call left off looking for the blank line."""
    end = buf.find(b"\n\r\n", scan_from)
    lf_lf = buf.find(b"\n\n", scan_from, end + 1 if end >= 0 else len(buf))
    if lf_lf >= 0:
        end = lf_lf + 2
    elif end >= 0:
        end += 3
    first_lf = buf.find(b"\n", 0, settings.max_request_line + 2)
    if first_lf < 0:
        if len(buf) > settings.max_request_line + 1:
            return Reject(414, "request line too long")
    elif first_lf - (buf[first_lf - 1 : first_lf] == b"\r") > settings.max_request_line:
        return Reject(414, "request line too long")
    if end < 0:
        return Reject(431, "request head too large") if len(buf) > settings.max_head_size else None
    if end > settings.max_head_size:
        return Reject(431, "request head too large")
    if _BAD_HEAD_BYTES.search(buf, 0, end):
        return Reject(400, "control character or folded line in request head")
    lengths = _CONTENT_LENGTH_FIELD.findall(buf, 0, end)
    if len(lengths) > 1 or (lengths and b"," in lengths[0]):
        # RFC 9110 §8.6 lets a server reject a repeated or listed length rather than
        # merge it; rejecting leaves no room for two parsers to read two lengths.
        return Reject(400, "Content-Length repeated or given as a list")
    return end


@dataclass(frozen=True, slots=True)
class RequestFraming:
    """What a request head says about its body and its connection."""

    http_version: str  # "1.0" or "1.1"
    keep_alive: bool
    chunked: bool
    content_length: int  # 0 when chunked
    expect_continue: bool  # the client waits for 100 Continue before sending a body


def check_request_syntax(
    method: str, target: str, version: str, headers: list[tuple[str, str]]
) -> Reject | None:
    """What every parser enforces while reading a head (token method, visible-ASCII
    target, ``d.d`` version, token field names, field values without control characters),
    for requests that were never bytes: offline calls get the listener's 400."""
    if not is_token(method):
        return Reject(400, f"method {method!r} is not a token")
    if not is_request_target(target):
        return Reject(400, f"request target {target!r} has a space, control or non-ASCII byte")
    if _HTTP_VERSION.fullmatch(version) is None:
        return Reject(400, f"malformed HTTP version {version!r}")
    for name, value in headers:
        if not is_token(name):
            return Reject(400, f"header name {name!r} is not a token")
        if not is_field_value(value):
            return Reject(400, f"header {name} has a control character")
    return None


def check_request(
    request: Request, settings: ListenerSettings, host_required: bool = True
) -> RequestFraming | Reject:
    """All the rules the listener applies to a request's head, for a Request built in
    Python (``call``, the test client): ``check_request_syntax``, then
    ``check_request_head``."""
    rejected = check_request_syntax(
        request.method, request.target, request.http_version, request.headers
    )
    return rejected or check_request_head(
        request.http_version, request.headers, settings, host_required
    )


def check_request_head(
    version: str,
    headers: list[tuple[str, str]],
    settings: ListenerSettings,
    host_required: bool = True,
) -> RequestFraming | Reject:
    """The server's rules for a parsed head, whichever parser produced it: version (505),
    Host (400), Transfer-Encoding and Content-Length (400/501), Max_Request_Size (413).
    ``host_required`` False lets a request without Host through (offline calls, which
    have no connection to name)."""
    major, _, minor = version.partition(".")
    if major != "1":
        return Reject(505, f"HTTP/{version} is not supported")
    version_10 = minor == "0"
    hosts = 0
    content_lengths: list[str] = []
    transfer_codings: list[str] = []
    connection_tokens: set[str] = set()
    expect_continue = False
    for name, value in headers:
        lname = name.lower()
        if lname == "host":
            hosts += 1
        elif lname == "content-length":
            content_lengths += value.split(",")
        elif lname == "transfer-encoding":
            transfer_codings += value.split(",")
        elif lname == "connection":
            connection_tokens |= comma_tokens(value)
        elif lname == "expect":
            expect_continue = value.lower() == "100-continue"
    if hosts > 1 or (hosts == 0 and not version_10 and host_required):
        return Reject(400, "HTTP/1.1 requests need exactly one Host header")
    if version_10:
        keep_alive = "keep-alive" in connection_tokens
    else:
        keep_alive = "close" not in connection_tokens
    chunked = False
    length = 0
    if transfer_codings:
        if content_lengths:
            return Reject(400, "both Transfer-Encoding and Content-Length")
        codings = [c.strip().lower() for c in transfer_codings]
        if any(c != "chunked" for c in codings):
            return Reject(501, "unsupported transfer coding")
        if len(codings) != 1:
            return Reject(400, "chunked applied more than once")
        chunked = True
        # RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means unreliable framing.
        keep_alive = keep_alive and not version_10
    elif content_lengths:
        lengths = {c.strip() for c in content_lengths}
        text = lengths.pop()
        if lengths or not (text.isascii() and text.isdigit()):
            return Reject(400, "invalid Content-Length")
        if len(text) > _MAX_CONTENT_LENGTH_DIGITS:
            return Reject(400, "Content-Length too large")
        length = int(text)
    limit = settings.max_request_size
    if limit is not None and length > limit:
        return Reject(413, f"body of {length} bytes exceeds {limit}")
    if not (chunked or length):
        return _BODILESS_FRAMINGS[version_10, keep_alive]
    return RequestFraming(
        "1.0" if version_10 else "1.1",
        keep_alive,
        chunked,
        length,
        expect_continue and not version_10,
    )


# The framing of a request without a body, by (HTTP/1.0, keep-alive): most requests, so
# made once (a frozen dataclass costs more to build than the rest of the check).
_BODILESS_FRAMINGS = {
    (version_10, keep_alive): RequestFraming(
        "1.0" if version_10 else "1.1", keep_alive, False, 0, False
    )
    for version_10 in (False, True)
    for keep_alive in (False, True)
}


def comma_tokens(value: str) -> set[str]:
    """The lower-cased tokens of a comma-separated header value."""
    return {token.strip() for token in value.lower().split(",")}


# ----------------------------------------------------------- response rules


class BodyFraming(Enum):
    """How a response body is delimited on the wire."""

    LENGTH = "Content-Length"
    CHUNKED = "chunked"
    UNFRAMED = "close-delimited, or no body and no framing header"
    NONE = "204: no body, no framing header"


_NO_BODY_STATUSES = frozenset((204, 304))


def latin1(text: str) -> bytes:
    """Encode response text for the wire; a character outside Latin-1 is the caller's bug."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise ResponseError(
            f"response head has a character outside Latin-1: {exc.object[exc.start]!r}"
        ) from None


# Checked response heads: (status, reason, headers) → (fields, Connection: close asked,
# Date given). Handlers answer with few distinct heads; bounded, emptied when full.
_CHECKED_HEADS: dict[tuple, tuple[list[tuple[str, str]], bool, bool]] = {}
_CHECKED_HEADS_MAX = 1024


def response_fields(
    status: int, reason: str, headers: Iterable[tuple[str, str]], date: str
) -> tuple[list[tuple[str, str]], bool]:
    """The handler's header fields as the server sends them, and whether one of them asked
    for ``Connection: close``. Content-Length, Transfer-Encoding and Connection are the
    server's (dropped here), Date is added unless given; anything that could split or
    corrupt the head raises ResponseError. A head seen before is not checked again."""
    key = (status, reason, *headers)
    checked = _CHECKED_HEADS.get(key)
    if checked is None:
        checked = _check_response_head(
            status, reason, cast("tuple[tuple[str, str], ...]", key[2:])
        )
        if len(_CHECKED_HEADS) >= _CHECKED_HEADS_MAX:
            _CHECKED_HEADS.clear()
        _CHECKED_HEADS[key] = checked
    fields, close, has_date = checked
    return [*fields] if has_date else [*fields, ("Date", date)], close


def _check_response_head(
    status: int, reason: str, headers: Iterable[tuple[str, str]]
) -> tuple[list[tuple[str, str]], bool, bool]:
    if not is_final_status(status):
        raise ResponseError(f"status {status} cannot be sent as a final response")
    if not is_field_value(reason):
        raise ResponseError(f"reason phrase {reason!r} contains a control character")
    fields: list[tuple[str, str]] = []
    close = False
    has_date = False
    for name, value in headers:
        lname = name.lower()
        if lname in FRAMING_HEADERS:
            close = close or (lname == "connection" and "close" in comma_tokens(value))
            continue
        if not is_token(name):
            raise ResponseError(f"response header name {name!r} is not a valid token")
        if not is_field_value(value):
            raise ResponseError(f"response header {name} contains a control character")
        has_date = has_date or lname == "date"
        fields.append((name, value))
    return fields, close, has_date


def response_framing(
    status: int,
    body_length: int | None,
    head_request: bool,
    version_10: bool,
    disable_chunked: bool,
) -> tuple[BodyFraming, bool, bool]:
    """How a response is framed: the framing, whether body bytes are sent (never for
    HEAD, 204 and 304; length headers are kept), and whether the body ends only when the
    connection closes. ``body_length`` None means the body is streamed."""
    send_body = not (head_request or status in _NO_BODY_STATUSES)
    if status == 204:
        return BodyFraming.NONE, False, False
    if body_length is not None:
        return BodyFraming.LENGTH, send_body, False
    if not version_10 and not disable_chunked:
        return BodyFraming.CHUNKED, send_body, False
    return BodyFraming.UNFRAMED, send_body, send_body


# ----------------------------------------------------------- the state machine

# States. IDLE: no byte of the next request yet. HEAD/BODY: reading a request.
# DISPATCHED: a request was handed out and its response has not started.
# SENDING: response head sent, body going. FAILED: a timeout produced a Reject that
# next_event has not handed out yet. REJECTED: a Reject was handed out.
# Input is ignored from FAILED on: the connection closes after the reject.
IDLE, HEAD, BODY, DISPATCHED, SENDING, FAILED, REJECTED, CLOSED = range(8)

# Whole-response heads (``HttpProtocol.respond``) by everything they depend on, Date
# included (an entry serves one second): the head's bytes, whether the body is sent, and
# whether the connection stays open. Bounded, emptied when full.
_WHOLE_HEADS: dict[tuple, tuple[bytes, bool, bool]] = {}
_WHOLE_HEADS_MAX = 1024


class HttpProtocol(ABC):
    """One HTTP/1.1 server connection: request parsing, keep-alive and response framing.

    Requests are handled strictly one at a time: after ``next_event`` returns a Request
    (or a Reject), no further bytes are parsed until that response has ended.
    Subclasses parse a complete head (``_parse_head``), read the body (``_read_body``)
    and serialise (``_write_head``, ``_frame``, ``_write_end``).
    """

    # True where ``_write_head`` depends only on its arguments and the response state
    # ``respond`` keys on (no parser state to advance): heads may then be reused whole.
    _prebuilt_heads = False

    __slots__ = (
        "_settings",
        "_connection",
        "_buf",
        "_state",
        "_eof",
        "_scan_from",
        "_served_any",
        "_idle_since",
        "_head_started",
        "_input_at",
        "_request",
        "_keep_alive",
        "_reject",
        "_framing",
        "_body_parts",
        "_body_size",
        "_body_remaining",
        "_send_continue",
        "_head_request",
        "_version_10",
        "_out_framing",
        "_out_discard",
        "_out_remaining",
    )

    def __init__(
        self,
        settings: ListenerSettings,
        now: float,
        connection: ConnectionInfo = OFFLINE_CONNECTION,
    ) -> None:
        self._settings = settings
        self._connection = connection
        self._buf = bytearray()
        self._state = IDLE
        self._eof = False
        self._scan_from = 0
        self._served_any = False
        self._idle_since = now
        self._head_started = now
        self._input_at = now
        self._request: Request | None = None
        self._keep_alive = True
        self._reject: Reject | None = None
        self._framing: RequestFraming | None = None
        self._body_parts: list[bytes] = []
        self._body_size = 0
        self._body_remaining = 0  # body bytes not yet taken from the buffer
        self._send_continue = False
        self._reset_output()

    def _reset_output(self) -> None:
        self._head_request = False
        self._version_10 = False
        self._out_framing = BodyFraming.NONE
        self._out_discard = False
        self._out_remaining: int | None = None

    # ----------------------------------- the state parser subclasses work with
    # (read through these, never through the slots: the base owns its state)

    @property
    def settings(self) -> ListenerSettings:
        return self._settings

    @property
    def buffer(self) -> bytearray:
        """Received bytes not yet parsed; a subclass takes body bytes from its front."""
        return self._buf

    @property
    def framing(self) -> RequestFraming | None:
        """What the head being read said about its body (``_accept_framed`` sets it)."""
        return self._framing

    @property
    def body_remaining(self) -> int:
        """Content-Length body bytes not yet taken from the buffer."""
        return self._body_remaining

    @body_remaining.setter
    def body_remaining(self, value: int) -> None:
        self._body_remaining = value

    @property
    def body_size(self) -> int:
        """Decoded body bytes collected so far (``_add_body``)."""
        return self._body_size

    @property
    def dispatched(self) -> bool:
        """A Request was handed out and its response has not started."""
        return self._state == DISPATCHED

    @property
    def handed_out_reject(self) -> Reject | None:
        """The Reject being answered, once one was handed out (``_fail``)."""
        return self._reject if self._state == REJECTED else None

    @property
    def version_10(self) -> bool:
        """The response goes to an HTTP/1.0 request."""
        return self._version_10

    @property
    def out_framing(self) -> BodyFraming:
        """How the response being sent is framed."""
        return self._out_framing

    @property
    def out_discard(self) -> bool:
        """The response's body bytes are not sent (HEAD, 204, 304)."""
        return self._out_discard

    # ------------------------------------------------------------------ input

    def feed(self, data: bytes, now: float) -> None:
        """Add received bytes. Parsing happens in ``next_event``."""
        if not data or self._state >= FAILED:
            return
        if self._state == IDLE:
            self._state = HEAD
            self._head_started = now
        self._input_at = now
        self._buf += data

    def feed_eof(self) -> None:
        """The client will send nothing more (it may still read the responses)."""
        self._eof = True

    @property
    def connection(self) -> ConnectionInfo:
        return self._connection

    @property
    def buffered(self) -> int:
        """Received bytes not yet parsed (the listener stops reading when this grows)."""
        return len(self._buf)

    def next_event(self) -> Request | Interim | Reject | _Marker:
        """The next thing the caller must act on: a complete Request, an Interim to send,
        a Reject to answer, NEED_DATA, or CLOSE."""
        state = self._state
        if state == HEAD:
            return self._read_head()
        if state == BODY:
            return self._read_body()
        if state == IDLE:
            return CLOSE if self._eof else NEED_DATA
        if state == CLOSED:
            return CLOSE
        if state == FAILED:
            self._state = REJECTED
            return self._reject  # type: ignore[return-value]
        raise ResponseError("next_event called before the current response ended")

    # ----------------------------------------------------------------- timers

    @property
    def deadline(self) -> float | None:
        """When ``expire`` must be called if nothing happens before; None = no timer."""
        state = self._state
        settings = self._settings
        if state == IDLE:
            if self._served_any:  # Idle_Time 0: a kept-alive connection may wait forever
                idle = settings.idle_time
                return self._idle_since + idle if idle > 0 else None
            return self._idle_since + settings.head_timeout
        if state == HEAD:
            return self._head_started + settings.head_timeout
        if state == BODY:
            return self._input_at + settings.body_timeout
        return None

    def expire(self, now: float) -> bool:
        """Apply a timeout due at ``now``: an idle connection closes, a request still
        arriving is answered 408. Returns True when something expired."""
        deadline = self.deadline
        if deadline is None or now < deadline:
            return False
        if self._state == IDLE:
            self._state = CLOSED
        else:
            what = "request head" if self._state == HEAD else "request body"
            self._fail(Reject(408, f"{what} not received in time"))
            self._state = FAILED
        return True

    # ---------------------------------------------------------------- request

    def _fail(self, reject: Reject) -> Reject:
        self._reject = reject
        self._state = REJECTED
        self._keep_alive = False
        self._request = None
        self._buf.clear()
        self._reset_output()
        return reject

    def _read_head(self) -> Request | Interim | Reject | _Marker:
        buf = self._buf
        skip_empty_lines(buf)
        if not buf:
            self._state = IDLE
            self._scan_from = 0
            return CLOSE if self._eof else NEED_DATA
        end = find_head_end(buf, self._scan_from, self._settings)
        if end is None:
            if self._eof:
                self._state = CLOSED
                return CLOSE
            self._scan_from = max(0, len(buf) - 2)
            return NEED_DATA
        if isinstance(end, Reject):
            return self._fail(end)
        head = bytes(buf[:end])
        del buf[:end]
        self._scan_from = 0
        return self._parse_head(head)

    @abstractmethod
    def _parse_head(self, head: bytes) -> Request | Interim | Reject | _Marker:
        """Parse a complete head (request line to blank line), then ``_accept_head``."""

    def _accept_head(
        self, method: str, target: str, version: str, headers: list[tuple[str, str]]
    ) -> Request | Interim | Reject | _Marker:
        """Apply the server's rules to a parsed head and start reading its body."""
        framing = check_request_head(version, headers, self._settings)
        if type(framing) is Reject:
            return self._fail(framing)
        assert isinstance(framing, RequestFraming)
        return self._accept_framed(method, target, headers, framing)

    def _accept_framed(
        self, method: str, target: str, headers: list[tuple[str, str]], framing: RequestFraming
    ) -> Request | Interim | Reject | _Marker:
        """Start reading the body of a head the server's rules accepted."""
        self._framing = framing
        self._keep_alive = framing.keep_alive
        self._request = Request(
            method, target, framing.http_version, headers, b"", self._connection
        )
        self._body_parts = []
        self._body_size = 0
        self._body_remaining = framing.content_length
        self._send_continue = framing.expect_continue and not self._buf
        self._state = BODY
        return self._read_body()

    @abstractmethod
    def _read_body(self) -> Request | Interim | Reject | _Marker:
        """Read body bytes; the Request (via ``_request_complete``) once it is whole."""

    def _add_body(self, data: bytes) -> Reject | None:
        """Collect decoded body bytes; a Reject once a chunked body passes the limit."""
        self._body_parts.append(data)
        self._body_size += len(data)
        limit = self._settings.max_request_size
        if limit is not None and self._body_size > limit:
            return self._fail(Reject(413, f"chunked body exceeds {limit} bytes"))
        return None

    def _wait_for_body(self) -> Interim | _Marker:
        if self._send_continue:
            self._send_continue = False
            return Interim(self._continue_response())
        if self._eof:
            self._state = CLOSED
            return CLOSE
        return NEED_DATA

    def _continue_response(self) -> bytes:
        return CONTINUE_RESPONSE

    def _request_complete(self) -> Request:
        request = self._request
        assert request is not None
        parts = self._body_parts
        if parts:
            request.body = bytes(parts[0]) if len(parts) == 1 else b"".join(parts)
            self._body_parts = []
        self._state = DISPATCHED
        self._head_request = request.method == "HEAD"
        self._version_10 = request.http_version == "1.0"
        return request

    # --------------------------------------------------------------- response

    @property
    def keep_alive(self) -> bool:
        """Whether the connection persists after the current response."""
        return self._keep_alive

    def close_after_response(self) -> None:
        """Make the current (or next) response the last one, e.g. on server shutdown."""
        self._keep_alive = False

    @property
    def response_started(self) -> bool:
        return self._state == SENDING

    @property
    def awaiting_response(self) -> bool:
        """A Request or Reject was handed out and its response has not started."""
        return self._state in (DISPATCHED, REJECTED)

    @property
    def closed(self) -> bool:
        return self._state == CLOSED

    def start_response(
        self,
        status: int,
        reason: str,
        headers: Iterable[tuple[str, str]],
        body_length: int | None,
        date: str,
    ) -> bytes:
        """Serialise the response head. ``body_length`` None means the body is streamed.

        Content-Length, Transfer-Encoding and Connection from ``headers`` are replaced by
        the server's own framing (a ``Connection: close`` among them still makes this the
        last response); Date is added unless given.
        """
        if self._state not in (DISPATCHED, REJECTED):
            raise ResponseError("start_response without a request awaiting its response")
        fields, close = response_fields(status, reason, headers, date)
        framing, send_body, close_delimited = response_framing(
            status,
            body_length,
            self._head_request,
            self._version_10,
            self._settings.disable_chunked,
        )
        if framing is BodyFraming.LENGTH:
            self._out_remaining = body_length
        if close or close_delimited:
            self._keep_alive = False
        data = self._write_head(status, reason, fields, framing, body_length)
        self._out_framing = framing
        self._out_discard = not send_body
        self._state = SENDING
        return data

    @abstractmethod
    def _write_head(
        self,
        status: int,
        reason: str,
        fields: list[tuple[str, str]],
        framing: BodyFraming,
        body_length: int | None,
    ) -> bytes:
        """The status line and ``fields`` plus the framing and Connection headers."""

    def body(self, data: bytes) -> bytes:
        """Frame body bytes for the wire (nothing for HEAD, 204, 304)."""
        if self._state != SENDING:
            raise ResponseError("body data outside a started response")
        if self._out_discard or not data:
            return b""
        remaining = self._out_remaining
        if remaining is not None:
            if len(data) > remaining:
                raise ResponseError(
                    f"body exceeds the declared length by {len(data) - remaining} bytes"
                )
            self._out_remaining = remaining - len(data)
        return self._frame(data)

    def respond(
        self,
        status: int,
        reason: str,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        date: str,
        now: float,
    ) -> tuple[bytes, int]:
        """``start_response`` with ``len(body)``, ``body``, ``end_response``: a whole
        response as one piece of bytes for one write, and how many body bytes it carries
        (none for HEAD, 204, 304). Where the subclass's heads are plain bytes
        (``_prebuilt_heads``), a head seen before comes from ``_WHOLE_HEADS``."""
        key = None
        if self._prebuilt_heads and self._state == DISPATCHED:
            key = (status, reason, len(body), self._keep_alive, self._version_10,
                   self._head_request, date, *headers)
            prebuilt = _WHOLE_HEADS.get(key)
            if prebuilt is not None:
                data, send_body, self._keep_alive = prebuilt
                self._state = SENDING
                if send_body and body:
                    return data + body + self.end_response(now), len(body)
                return data + self.end_response(now), 0
        data = self.start_response(status, reason, headers, len(body), date)
        if key is not None:
            if len(_WHOLE_HEADS) >= _WHOLE_HEADS_MAX:
                _WHOLE_HEADS.clear()
            _WHOLE_HEADS[key] = (data, not self._out_discard, self._keep_alive)
        sent = 0
        if body and not self._out_discard:
            data += self.body(body)
            sent = len(body)
        return data + self.end_response(now), sent

    @abstractmethod
    def _frame(self, data: bytes) -> bytes:
        """Body bytes as they go on the wire (a chunk, or as they are)."""

    def end_response(self, now: float) -> bytes:
        """Finish the response; returns the last bytes to send. A body shorter than
        its declared length leaves the connection unusable, so it will close."""
        if self._state != SENDING:
            raise ResponseError("end_response without a started response")
        if self._out_remaining and not self._out_discard:
            self._keep_alive = False
            tail = b""
        else:
            tail = self._write_end()
        self._reset_output()
        self._request = None
        self._served_any = True
        self._idle_since = now
        if not self._keep_alive:
            self._state = CLOSED
            self._buf.clear()
        elif self._buf:
            self._state = HEAD
            self._head_started = now
        else:
            self._state = IDLE
        return tail

    @abstractmethod
    def _write_end(self) -> bytes:
        """The bytes that end a complete body (the last chunk)."""

    def abort_response(self) -> None:
        """The response cannot be completed (its head is already out): close."""
        self._keep_alive = False
        self._state = CLOSED
        self._buf.clear()
