"""The server side of HTTP/1.1 as a sans-IO state machine.

Bytes go in (``feed``), complete requests come out (``next_event``); a response head and
body go in (``start_response`` / ``body`` / ``end_response``), framed bytes come out.
No sockets, no event loop, no clock: the caller passes the time in and owns the timer
that calls ``expire``. The listener is the only I/O around it, so a faster parser can
replace this class without touching anything else.

The parser is hand-written rather than h11 because it must enforce more than h11 does
(414/431/505/501, the TE+CL rule, Host rules, total head deadline) and because h11's
per-request cost (~45 µs for parse + serialise) dominated the server's CPU per request.
Strings are Latin-1 decoded bytes (package convention).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .requests import OFFLINE_CONNECTION, ConnectionInfo, Request
from .responses import MOMENTUM_REASONS, standard_reason


@dataclass
class ListenerSettings:
    """Per-listener HTTP behaviour; the lead fills it from the HTTP_Listener/Listen scopes."""

    max_request_size: int | None = None  # Max_Request_Size: body bytes; None = unlimited
    idle_time: float = 0  # Idle_Time: seconds between requests; 0 = keepalive_timeout
    disable_chunked: bool = False  # Disable_Chunked: streamed bodies are close-delimited
    listen_backlog: int = 500  # Listen_Backlog
    file_mode: int = 0o660  # File_Mode of a Unix-domain socket listener
    max_request_line: int = 8190  # longer request line -> 414
    max_head_size: int = 65536  # request line + headers + blank line; larger -> 431
    head_timeout: float = 10.0  # total deadline for a request head from its first byte
    body_timeout: float = 15.0  # no body progress for this long -> 408 and close
    keepalive_timeout: float = 60.0  # idle close between requests when Idle_Time is 0
    send_timeout: float = 60.0  # a client that reads nothing for this long is dropped

    @property
    def between_requests_timeout(self) -> float:
        return self.idle_time if self.idle_time > 0 else self.keepalive_timeout


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


# States. IDLE: no byte of the next request yet. HEAD/BODY: reading a request.
# DISPATCHED: a request was handed out and its response has not started.
# SENDING: response head sent, body going. FAILED: a timeout produced a Reject that
# next_event has not handed out yet. REJECTED: a Reject was handed out.
# Input is ignored from FAILED on: the connection closes after the reject.
_IDLE, _HEAD, _BODY, _DISPATCHED, _SENDING, _FAILED, _REJECTED, _CLOSED = range(8)

_TCHAR = r"-!#$%&'*+.^_`|~0-9A-Za-z"
_REQUEST_LINE = re.compile(rf"([{_TCHAR}]+) ([\x21-\x7e]+) HTTP/([0-9])\.([0-9])")
# A head may contain HTAB and CR LF line ends; any other control byte (or a CR not
# ending a line) is malformed.
_BAD_HEAD_BYTE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)")
_HEADER_BLOCK = re.compile(rf"(?:[{_TCHAR}]+:[^\n]*\n)*")
_TOKEN = re.compile(rf"[{_TCHAR}]+")
_BAD_RESPONSE_BYTE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,15})[ \t]*(?:;[\t\x20-\x7e\x80-\xff]*)?\r?")
_MAX_CHUNK_LINE = 4096
_MAX_CONTENT_LENGTH_DIGITS = 18

_FRAMING_HEADERS = frozenset(("content-length", "transfer-encoding", "connection"))
_NO_BODY_STATUSES = frozenset((204, 304))


def reason_for(status: int) -> str:
    """Reason phrase for responses the server generates itself (httpsrv.md §1.3)."""
    return MOMENTUM_REASONS.get(status) or standard_reason(status)


class Http11Protocol:
    """One HTTP/1.1 server connection: request parsing, keep-alive and response framing.

    Requests are handled strictly one at a time: after ``next_event`` returns a Request
    (or a Reject), no further bytes are parsed until that response has ended.
    """

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
        "_body_parts",
        "_body_size",
        "_body_remaining",
        "_chunked",
        "_chunk_phase",
        "_trailer_size",
        "_send_continue",
        "_head_request",
        "_version_10",
        "_out_chunked",
        "_out_discard",
        "_out_remaining",
        "_reject",
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
        self._state = _IDLE
        self._eof = False
        self._scan_from = 0
        self._served_any = False
        self._idle_since = now
        self._head_started = now
        self._input_at = now
        self._request: Request | None = None
        self._keep_alive = True
        self._reject: Reject | None = None
        self._reset_body()
        self._reset_output()

    def _reset_body(self) -> None:
        self._body_parts: list[bytes] = []
        self._body_size = 0
        self._body_remaining = 0
        self._chunked = False
        self._chunk_phase = 0
        self._trailer_size = 0
        self._send_continue = False

    def _reset_output(self) -> None:
        self._head_request = False
        self._version_10 = False
        self._out_chunked = False
        self._out_discard = False
        self._out_remaining: int | None = None

    # ------------------------------------------------------------------ input

    def feed(self, data: bytes, now: float) -> None:
        """Add received bytes. Parsing happens in ``next_event``."""
        if not data or self._state >= _FAILED:
            return
        if self._state == _IDLE:
            self._state = _HEAD
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
        if state == _HEAD:
            return self._read_head()
        if state == _BODY:
            return self._read_body()
        if state == _IDLE:
            return CLOSE if self._eof else NEED_DATA
        if state == _CLOSED:
            return CLOSE
        if state == _FAILED:
            self._state = _REJECTED
            return self._reject
        raise ResponseError("next_event called before the current response ended")

    # ----------------------------------------------------------------- timers

    @property
    def deadline(self) -> float | None:
        """When ``expire`` must be called if nothing happens before; None = no timer."""
        state = self._state
        settings = self._settings
        if state == _IDLE:
            if self._served_any:
                return self._idle_since + settings.between_requests_timeout
            return self._idle_since + settings.head_timeout
        if state == _HEAD:
            return self._head_started + settings.head_timeout
        if state == _BODY:
            return self._input_at + settings.body_timeout
        return None

    def expire(self, now: float) -> bool:
        """Apply a timeout due at ``now``: an idle connection closes, a request still
        arriving is answered 408. Returns True when something expired."""
        deadline = self.deadline
        if deadline is None or now < deadline:
            return False
        if self._state == _IDLE:
            self._state = _CLOSED
        else:
            what = "request head" if self._state == _HEAD else "request body"
            self._fail(408, f"{what} not received in time")
            self._state = _FAILED
        return True

    # ------------------------------------------------------------ request head

    def _fail(self, status: int, detail: str) -> Reject:
        self._reject = Reject(status, detail)
        self._state = _REJECTED
        self._keep_alive = False
        self._request = None
        self._buf.clear()
        self._reset_output()
        return self._reject

    def _read_head(self) -> Request | Interim | Reject | _Marker:
        buf = self._buf
        # RFC 9112 §2.2: ignore empty lines before a request line.
        while buf and (buf[0] == 10 or buf[:2] == b"\r\n"):
            del buf[: 1 if buf[0] == 10 else 2]
        if not buf:
            self._state = _IDLE
            self._scan_from = 0
            return CLOSE if self._eof else NEED_DATA
        settings = self._settings
        start = self._scan_from
        end = buf.find(b"\n\r\n", start)
        lf_lf = buf.find(b"\n\n", start, end + 1 if end >= 0 else len(buf))
        if lf_lf >= 0:
            end = lf_lf + 2
        elif end >= 0:
            end += 3
        first_lf = buf.find(b"\n", 0, settings.max_request_line + 2)
        if first_lf < 0:
            if len(buf) > settings.max_request_line + 1:
                return self._fail(414, "request line too long")
        elif first_lf - (buf[first_lf - 1 : first_lf] == b"\r") > settings.max_request_line:
            return self._fail(414, "request line too long")
        if end < 0:
            if len(buf) > settings.max_head_size:
                return self._fail(431, "request head too large")
            if self._eof:
                self._state = _CLOSED
                return CLOSE
            self._scan_from = max(0, len(buf) - 2)
            return NEED_DATA
        if end > settings.max_head_size:
            return self._fail(431, "request head too large")
        head = buf[:end].decode("latin-1")
        del buf[:end]
        self._scan_from = 0
        return self._parse_head(head)

    def _parse_head(self, head: str) -> Request | Interim | Reject:
        if _BAD_HEAD_BYTE.search(head):
            return self._fail(400, "control character in request head")
        line_end = head.index("\n")
        request_line = head[:line_end].rstrip("\r")
        match = _REQUEST_LINE.fullmatch(request_line)
        if match is None:
            return self._fail(400, "malformed request line")
        method, target, major, minor = match.groups()
        if major != "1":
            return self._fail(505, f"HTTP/{major}.{minor} is not supported")
        block = head[line_end + 1 :].replace("\r\n", "\n")
        block = block[:-1]  # the blank line ending the head
        if _HEADER_BLOCK.fullmatch(block) is None:
            return self._fail(400, "malformed header line")
        version_10 = minor == "0"
        headers: list[tuple[str, str]] = []
        hosts = 0
        content_lengths: list[str] = []
        transfer_codings: list[str] = []
        connection_tokens = ""
        expect_continue = False
        for line in block.split("\n")[:-1]:
            name, _, value = line.partition(":")
            value = value.strip(" \t")
            headers.append((name, value))
            lname = name.lower()
            if lname == "host":
                hosts += 1
            elif lname == "content-length":
                content_lengths += value.split(",")
            elif lname == "transfer-encoding":
                transfer_codings += value.split(",")
            elif lname == "connection":
                connection_tokens += "," + value.lower()
            elif lname == "expect":
                expect_continue = value.lower() == "100-continue"
        if hosts > 1 or (hosts == 0 and not version_10):
            return self._fail(400, "HTTP/1.1 requests need exactly one Host header")
        if version_10:
            keep_alive = "keep-alive" in _tokens(connection_tokens)
        else:
            keep_alive = "close" not in _tokens(connection_tokens)
        self._reset_body()
        if transfer_codings:
            if content_lengths:
                return self._fail(400, "both Transfer-Encoding and Content-Length")
            codings = [c.strip().lower() for c in transfer_codings]
            if any(c != "chunked" for c in codings):
                return self._fail(501, "unsupported transfer coding")
            if len(codings) != 1:
                return self._fail(400, "chunked applied more than once")
            self._chunked = True
            # RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means unreliable framing.
            keep_alive = keep_alive and not version_10
        elif content_lengths:
            lengths = {c.strip() for c in content_lengths}
            length = lengths.pop()
            if lengths or not (length.isascii() and length.isdigit()):
                return self._fail(400, "invalid Content-Length")
            if len(length) > _MAX_CONTENT_LENGTH_DIGITS:
                return self._fail(400, "Content-Length too large")
            self._body_remaining = int(length)
        limit = self._settings.max_request_size
        if limit is not None and self._body_remaining > limit:
            return self._fail(413, f"body of {self._body_remaining} bytes exceeds {limit}")
        self._keep_alive = keep_alive
        self._request = Request(
            method, target, "1.0" if version_10 else "1.1", headers, b"", self._connection
        )
        self._state = _BODY
        self._send_continue = (
            expect_continue
            and not version_10
            and (self._chunked or self._body_remaining > 0)
            and not self._buf
        )
        return self._read_body()

    # ------------------------------------------------------------ request body

    def _read_body(self) -> Request | Interim | Reject | _Marker:
        if self._chunked:
            outcome = self._read_chunks()
            if outcome is not None:
                return outcome
        elif self._body_remaining:
            buf = self._buf
            take = min(len(buf), self._body_remaining)
            if take:
                self._body_parts.append(bytes(buf[:take]))
                del buf[:take]
                self._body_remaining -= take
            if self._body_remaining:
                return self._wait_for_body()
        request = self._request
        assert request is not None
        parts = self._body_parts
        if parts:
            request.body = parts[0] if len(parts) == 1 else b"".join(parts)
            self._body_parts = []
        self._state = _DISPATCHED
        self._head_request = request.method == "HEAD"
        self._version_10 = request.http_version == "1.0"
        return request

    def _wait_for_body(self) -> Interim | _Marker:
        if self._send_continue:
            self._send_continue = False
            return Interim(CONTINUE_RESPONSE)
        if self._eof:
            self._state = _CLOSED
            return CLOSE
        return NEED_DATA

    def _read_chunks(self) -> Interim | Reject | _Marker | None:
        """Decode what is buffered; None once the final chunk and trailers are in."""
        buf = self._buf
        limit = self._settings.max_request_size
        while True:
            phase = self._chunk_phase
            if phase == 0:  # chunk-size line
                lf = buf.find(b"\n", 0, _MAX_CHUNK_LINE)
                if lf < 0:
                    if len(buf) >= _MAX_CHUNK_LINE:
                        return self._fail(400, "chunk-size line too long")
                    return self._wait_for_body()
                match = _CHUNK_SIZE.fullmatch(buf, 0, lf)
                if match is None:
                    return self._fail(400, "malformed chunk-size line")
                size = int(match.group(1), 16)
                del buf[: lf + 1]
                if size == 0:
                    self._chunk_phase = 3
                    continue
                self._body_size += size
                if limit is not None and self._body_size > limit:
                    return self._fail(413, f"chunked body exceeds {limit} bytes")
                self._body_remaining = size
                self._chunk_phase = 1
            elif phase == 1:  # chunk data
                take = min(len(buf), self._body_remaining)
                if not take:
                    return self._wait_for_body()
                self._body_parts.append(bytes(buf[:take]))
                del buf[:take]
                self._body_remaining -= take
                if not self._body_remaining:
                    self._chunk_phase = 2
            elif phase == 2:  # CRLF after chunk data
                if buf[:2] == b"\r\n":
                    del buf[:2]
                elif buf[:1] == b"\n":
                    del buf[:1]
                elif len(buf) < 2:
                    return self._wait_for_body()
                else:
                    return self._fail(400, "chunk data not followed by CRLF")
                self._chunk_phase = 0
            else:  # trailer section: fields are read and dropped
                lf = buf.find(b"\n")
                if lf < 0:
                    if self._trailer_size + len(buf) > self._settings.max_head_size:
                        return self._fail(400, "trailer section too large")
                    return self._wait_for_body()
                self._trailer_size += lf + 1
                if self._trailer_size > self._settings.max_head_size:
                    return self._fail(400, "trailer section too large")
                line = bytes(buf[:lf]).rstrip(b"\r")
                del buf[: lf + 1]
                if not line:
                    return None
                if b":" not in line:
                    return self._fail(400, "malformed trailer field")

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
        return self._state == _SENDING

    @property
    def awaiting_response(self) -> bool:
        """A Request or Reject was handed out and its response has not started."""
        return self._state in (_DISPATCHED, _REJECTED)

    @property
    def closed(self) -> bool:
        return self._state == _CLOSED

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
        if self._state not in (_DISPATCHED, _REJECTED):
            raise ResponseError("start_response without a request awaiting its response")
        if not 200 <= status <= 999:
            raise ResponseError(f"status {status} cannot be sent as a final response")
        lines = [f"HTTP/1.1 {status} {reason}"]
        has_date = False
        for name, value in headers:
            lname = name.lower()
            if lname in _FRAMING_HEADERS:
                if lname == "connection" and "close" in _tokens(value.lower()):
                    self._keep_alive = False
                continue
            if _TOKEN.fullmatch(name) is None:
                raise ResponseError(f"response header name {name!r} is not a valid token")
            has_date = has_date or lname == "date"
            lines.append(f"{name}: {value}")
        if not has_date:
            lines.append("Date: " + date)
        no_body = self._head_request or status in _NO_BODY_STATUSES
        if status != 204:
            if body_length is not None:
                lines.append(f"Content-Length: {body_length}")
                self._out_remaining = body_length
            elif not self._version_10 and not self._settings.disable_chunked:
                lines.append("Transfer-Encoding: chunked")
                self._out_chunked = not no_body
            elif not no_body:
                self._keep_alive = False  # the body ends when the connection does
        if not self._keep_alive:
            lines.append("Connection: close")
        elif self._version_10:
            lines.append("Connection: keep-alive")
        lines.append("\r\n")
        text = "\r\n".join(lines)
        if (
            text.count("\n") != len(lines) or text.count("\r") != len(lines)
        ) or _BAD_RESPONSE_BYTE.search(text):
            raise ResponseError("response status or header contains a control character")
        try:
            data = text.encode("latin-1")
        except UnicodeEncodeError as exc:
            raise ResponseError(
                f"response head has a character outside Latin-1: {exc.object[exc.start]!r}"
            ) from None
        self._out_discard = no_body
        self._state = _SENDING
        return data

    def body(self, data: bytes) -> bytes:
        """Frame body bytes for the wire (nothing for HEAD, 204, 304)."""
        if self._state != _SENDING:
            raise ResponseError("body data outside a started response")
        if self._out_discard or not data:
            return b""
        if self._out_chunked:
            return b"%x\r\n%b\r\n" % (len(data), data)
        remaining = self._out_remaining
        if remaining is not None:
            if len(data) > remaining:
                raise ResponseError(
                    f"body exceeds the declared length by {len(data) - remaining} bytes"
                )
            self._out_remaining = remaining - len(data)
        return data

    def end_response(self, now: float) -> bytes:
        """Finish the response; returns the last bytes to send. A body shorter than
        its declared length leaves the connection unusable, so it will close."""
        if self._state != _SENDING:
            raise ResponseError("end_response without a started response")
        tail = b"0\r\n\r\n" if self._out_chunked else b""
        if self._out_remaining and not self._out_discard:
            self._keep_alive = False
        self._reset_output()
        self._request = None
        self._served_any = True
        self._idle_since = now
        if not self._keep_alive:
            self._state = _CLOSED
            self._buf.clear()
        elif self._buf:
            self._state = _HEAD
            self._head_started = now
        else:
            self._state = _IDLE
        return tail

    def abort_response(self) -> None:
        """The response cannot be completed (its head is already out): close."""
        self._keep_alive = False
        self._state = _CLOSED
        self._buf.clear()


def _tokens(joined: str) -> set[str]:
    return {token.strip() for token in joined.split(",")}
