"""HTTP/1.1 parsing with httptools (llhttp, ``parser: httptools``, the default of ``serve``).

llhttp parses each request head and body; ``HttpProtocol`` adds the server's rules (limits,
version, Host and framing rules, Max_Request_Size, timeouts), exactly as for h11, which
stays the conformance reference. One llhttp parser per connection, fed one message at a
time: the head once the shared pre-scan has seen all of it, then only the bytes of that
message's body, so bytes of the next request never sit inside llhttp.

What llhttp would decide differently from the server's rules is settled before it sees
the bytes: the method and target are split off the request line and checked as h11 checks
them (any token is a method here, CONNECT included, and never a tunnel; llhttp knows only
its own methods and URL shapes), llhttp reading ``GET / HTTP/x.y`` in their place; a head
with bare-LF line ends (allowed in the head, RFC 9112 §2.2) is given CRLFs; any HTTP
version reaches the server's version rule; trailing whitespace of a field is dropped; a
bare LF ends a trailer line as it ends a head line. Chunk lines must end in CRLF, as under h11.
"""

from __future__ import annotations

import re

import httptools

from .protocol import (
    BodyFraming,
    HttpProtocol,
    Interim,
    ListenerSettings,
    Reject,
    RequestFraming,
    _Marker,
    check_request_head,
    latin1,
)
from .requests import OFFLINE_CONNECTION, ConnectionInfo, Request
from .wire import TARGET_CHAR, TCHAR

# Response heads as bytes, by everything they are made of (Date included, so an entry
# serves one second); bounded, emptied when full.
_HEADS: dict[tuple, bytes] = {}
_HEADS_MAX = 1024
# method SP request-target SP HTTP-version, then the line's end (RFC 9112 §3): a token, then
# visible ASCII (wire.TCHAR, wire.TARGET_CHAR), then d.d.
_REQUEST_LINE = re.compile(
    f"([{TCHAR}]+) ([{TARGET_CHAR}]+) (HTTP/[0-9]\\.[0-9])\r?\n".encode("latin-1")
)
# A head llhttp is not needed for (docs/request-lifecycle.md#from-bytes-to-a-request):
# HTTP/1.0 or 1.1, CRLF line ends, token names right before the colon, values of visible
# ASCII, spaces and tabs, and no body (no Content-Length, no Transfer-Encoding). Whatever
# else goes to llhttp, which decides.
_SIMPLE_HEAD = re.compile(
    f"[{TCHAR}]+ [{TARGET_CHAR}]+ HTTP/1\\.([01])\r\n"
    f"(?:[{TCHAR}]+:[\t\x20-\x7e]*\r\n)*\r\n".encode("latin-1")
)
_BODY_FIELD = re.compile(rb"\n(?:content-length|transfer-encoding):", re.IGNORECASE)
_BARE_LF = re.compile(rb"(?<!\r)\n")
_TRAILING_WHITESPACE = re.compile(rb"[ \t]+\r\n")
_LAST_CHUNK = re.compile(rb"0+[ \t]*[;\r]")
# A chunked body is handed to llhttp up to each LF (where a message can end), so what
# follows the last chunk stays in our buffer for the next request.
_LF = 10


class _Stop(Exception):
    """Raised from an llhttp callback: the server's rules rejected the head."""


class HttptoolsProtocol(HttpProtocol):
    """HttpProtocol whose request parsing is llhttp's (through httptools)."""

    _prebuilt_heads = True

    __slots__ = (
        "_parser",
        "_method",
        "_target",
        "_fields",
        "_verdict",
        "_message_done",
        "_chunk_overhead",
        "_chunk_header_seen",
        "_in_trailers",
    )

    def __init__(
        self,
        settings: ListenerSettings,
        now: float,
        connection: ConnectionInfo = OFFLINE_CONNECTION,
    ) -> None:
        super().__init__(settings, now, connection)
        self._parser = self._new_parser()
        self._method = ""
        self._target = ""
        self._fields: list[tuple[str, str]] = []
        self._verdict: RequestFraming | Reject | None = None
        self._message_done = False
        self._chunk_overhead = 0  # chunk-framing bytes since the last body bytes
        self._chunk_header_seen = False  # llhttp read a chunk-size line in the last piece
        self._in_trailers = False  # the last chunk was read: the trailer section follows

    def _new_parser(self) -> httptools.HttpRequestParser:
        parser = httptools.HttpRequestParser(self)
        # Any d.d version reaches the server's 505 rule; "3 \r\n" is a chunk size, as h11
        # reads it.
        parser.set_dangerous_leniencies(lenient_version=True, lenient_spaces_after_chunk_size=True)
        return parser

    # ------------------------------------------------------- llhttp callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._verdict is not None:
            return  # a trailer field: read and dropped
        self._fields.append((name.decode("latin-1"), value.decode("latin-1").strip(" \t")))

    def on_headers_complete(self) -> None:
        version = self._parser.get_http_version()
        verdict = self._verdict = check_request_head(version, self._fields, self.settings)
        if type(verdict) is Reject:
            raise _Stop

    def on_body(self, data: bytes) -> None:
        if self._add_body(data) is not None:
            raise _Stop

    def on_chunk_header(self) -> None:
        self._chunk_header_seen = True

    def on_message_complete(self) -> None:
        self._message_done = True

    # ---------------------------------------------------------------- request

    def _feed(self, data: bytes | bytearray) -> Reject | None:
        """Hand bytes to llhttp; a Reject when they (or the server's rules) refuse them."""
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # An Upgrade request is an ordinary request here (no protocol switch); llhttp
            # stops after it, so the next request gets a fresh parser.
            self._parser = self._new_parser()
        except httptools.HttpParserError as error:
            reject = self.handed_out_reject
            if reject is not None:  # on_body passed Max_Request_Size: the 413
                return reject
            verdict = self._verdict
            if type(verdict) is Reject:
                return self._fail(verdict)
            return self._fail(Reject(400, f"malformed request: {error}"))
        return None

    def _parse_head(self, head: bytes) -> Request | Interim | Reject | _Marker:
        simple = _SIMPLE_HEAD.fullmatch(head)
        if simple is not None and _BODY_FIELD.search(head) is None:
            return self._parse_simple_head(head, "1." + chr(simple.group(1)[0]))
        line = _REQUEST_LINE.match(head)
        if line is None:
            return self._fail(Reject(400, "malformed request line"))
        # llhttp reads the version and the rest; method and target are checked by the
        # pattern as h11 checks them (llhttp knows only its own methods and URL shapes).
        head = b"GET / " + head[line.start(3) :]
        if _BARE_LF.search(head) is not None:
            head = head.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if b"\t\r\n" in head:  # trailing whitespace is no part of a value (llhttp keeps a
            head = _TRAILING_WHITESPACE.sub(b"\r\n", head)  # tab after "chunked")
        self._method, self._target = (part.decode("latin-1") for part in line.group(1, 2))
        self._fields = []
        self._verdict = None
        self._message_done = False
        self._chunk_overhead = 0
        self._in_trailers = False
        rejected = self._feed(head)
        if rejected is not None:
            return rejected
        verdict = self._verdict
        if verdict is None:  # the pre-scan saw a complete head
            return self._fail(Reject(400, "malformed request head"))
        assert type(verdict) is RequestFraming
        return self._accept_framed(self._method, self._target, self._fields, verdict)

    def _parse_simple_head(self, head: bytes, version: str) -> Request | Interim | Reject | _Marker:
        """A head ``_SIMPLE_HEAD`` matched, split here: what llhttp would have read from it
        (the fields, values stripped of spaces and tabs), with no llhttp callbacks."""
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ")
        fields = []
        for line in lines[:-2]:
            name, _, value = line.partition(":")
            fields.append((name, value.strip(" \t")))
        self._method, self._target, self._fields = method, target, fields
        self._verdict = None  # llhttp read no part of this request
        self._message_done = True
        return self._accept_head(method, target, version, fields)

    def _read_body(self) -> Request | Interim | Reject | _Marker:
        framing = self.framing
        assert framing is not None
        buf = self.buffer
        if framing.chunked:
            limit = self.settings.max_head_size
            while not self._message_done:
                if not buf:
                    return self._wait_for_body()
                end = buf.find(_LF) + 1
                if self._in_trailers:  # a field section: whole lines, bare LF ends one
                    if not end:
                        if self._chunk_overhead + len(buf) > limit:
                            return self._fail(Reject(400, "trailer section too large"))
                        return self._wait_for_body()
                    if buf[end - 2 : end - 1] != b"\r":
                        buf[end - 1 : end] = b"\r\n"
                        end += 1
                piece = bytes(buf[: end or len(buf)])
                del buf[: end or len(buf)]
                body_before = self.body_size
                self._chunk_header_seen = False
                rejected = self._feed(piece)
                if rejected is not None:
                    return rejected
                if self._chunk_header_seen and _LAST_CHUNK.match(piece):
                    self._in_trailers = True
                # Chunk lines and trailers are bounded like a head (as h11 bounds them).
                if self.body_size > body_before:
                    self._chunk_overhead = 0
                self._chunk_overhead += len(piece) - (self.body_size - body_before)
                if self._chunk_overhead > limit:
                    return self._fail(Reject(400, "chunk-size line or trailers too large"))
        elif self.body_remaining:
            take = min(len(buf), self.body_remaining)
            if take:
                piece = bytes(buf[:take])
                del buf[:take]
                self.body_remaining -= take
                rejected = self._feed(piece)
                if rejected is not None:
                    return rejected
            if self.body_remaining:
                return self._wait_for_body()
        if self._verdict is not None and not self._parser.should_keep_alive() and self.keep_alive:
            self._parser = self._new_parser()  # llhttp would refuse a next request
        return self._request_complete()

    # --------------------------------------------------------------- response

    def _write_head(
        self,
        status: int,
        reason: str,
        fields: list[tuple[str, str]],
        framing: BodyFraming,
        body_length: int | None,
    ) -> bytes:
        key = (status, reason, framing, body_length, self.keep_alive, self.version_10, *fields)
        head = _HEADS.get(key)
        if head is not None:
            return head
        lines = [f"HTTP/1.1 {status} {reason}"]
        lines += [f"{name}: {value}" for name, value in fields]
        if framing is BodyFraming.LENGTH:
            lines.append(f"Content-Length: {body_length}")
        elif framing is BodyFraming.CHUNKED:
            lines.append("Transfer-Encoding: chunked")
        if not self.keep_alive:
            lines.append("Connection: close")
        elif self.version_10:
            lines.append("Connection: keep-alive")
        lines.append("\r\n")
        head = latin1("\r\n".join(lines))
        if len(_HEADS) >= _HEADS_MAX:
            _HEADS.clear()
        _HEADS[key] = head
        return head

    def _frame(self, data: bytes) -> bytes:
        if self.out_framing is BodyFraming.CHUNKED:
            return b"%x\r\n%b\r\n" % (len(data), data)
        return data

    def _write_end(self) -> bytes:
        if self.out_framing is BodyFraming.CHUNKED and not self.out_discard:
            return b"0\r\n\r\n"
        return b""
