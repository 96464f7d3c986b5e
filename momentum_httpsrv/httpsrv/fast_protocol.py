"""The hand-written HTTP/1.1 parser and serialiser (``parser: fast``).

About four times cheaper per request than h11 (~10 µs against ~45 µs for parse plus
serialise); the server's rules (limits, Host, framing, timeouts) are shared with the h11
parser in ``protocol.HttpProtocol``, so this class only turns bytes into a head and a
body and frames the response.
"""

from __future__ import annotations

import re

from .protocol import (
    BodyFraming,
    HttpProtocol,
    Interim,
    Reject,
    _Marker,
    latin1,
)
from .requests import Request
from .wire import TARGET_CHAR, TCHAR

_REQUEST_LINE = re.compile(rf"([{TCHAR}]+) ([{TARGET_CHAR}]+) HTTP/([0-9]\.[0-9])")
_HEADER_BLOCK = re.compile(rf"(?:[{TCHAR}]+:[^\n]*\n)*")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,15})[ \t]*(?:;[\t\x20-\x7e\x80-\xff]*)?\r?")
_MAX_CHUNK_LINE = 4096


class FastProtocol(HttpProtocol):
    """HttpProtocol with its own request-line, header, chunk and response-head code."""

    __slots__ = ("_chunk_phase", "_trailer_size")

    def _parse_head(self, head: bytes) -> Request | Interim | Reject | _Marker:
        text = head.decode("latin-1")
        line_end = text.index("\n")
        match = _REQUEST_LINE.fullmatch(text[:line_end].rstrip("\r"))
        if match is None:
            return self._fail(Reject(400, "malformed request line"))
        method, target, version = match.groups()
        block = text[line_end + 1 :].replace("\r\n", "\n")[:-1]  # without the blank line
        if _HEADER_BLOCK.fullmatch(block) is None:
            return self._fail(Reject(400, "malformed header line"))
        headers = []
        for line in block.split("\n")[:-1]:
            name, _, value = line.partition(":")
            headers.append((name, value.strip(" \t")))
        self._chunk_phase = 0
        self._trailer_size = 0
        return self._accept_head(method, target, version, headers)

    # ------------------------------------------------------------ request body

    def _read_body(self) -> Request | Interim | Reject | _Marker:
        framing = self._framing
        assert framing is not None
        if framing.chunked:
            outcome = self._read_chunks()
            if outcome is not None:
                return outcome
        elif self._body_remaining:
            buf = self._buf
            take = min(len(buf), self._body_remaining)
            if take:
                self._add_body(bytes(buf[:take]))
                del buf[:take]
                self._body_remaining -= take
            if self._body_remaining:
                return self._wait_for_body()
        return self._request_complete()

    def _read_chunks(self) -> Interim | Reject | _Marker | None:
        """Decode what is buffered; None once the final chunk and trailers are in."""
        buf = self._buf
        while True:
            phase = self._chunk_phase
            if phase == 0:  # chunk-size line
                lf = buf.find(b"\n", 0, _MAX_CHUNK_LINE)
                if lf < 0:
                    if len(buf) >= _MAX_CHUNK_LINE:
                        return self._fail(Reject(400, "chunk-size line too long"))
                    return self._wait_for_body()
                match = _CHUNK_SIZE.fullmatch(buf, 0, lf)
                if match is None:
                    return self._fail(Reject(400, "malformed chunk-size line"))
                size = int(match.group(1), 16)
                del buf[: lf + 1]
                self._body_remaining = size
                self._chunk_phase = 1 if size else 3
            elif phase == 1:  # chunk data
                take = min(len(buf), self._body_remaining)
                if not take:
                    return self._wait_for_body()
                rejected = self._add_body(bytes(buf[:take]))
                if rejected:
                    return rejected
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
                    return self._fail(Reject(400, "chunk data not followed by CRLF"))
                self._chunk_phase = 0
            else:  # trailer section: fields are read and dropped
                limit = self._settings.max_head_size
                lf = buf.find(b"\n")
                if lf < 0:
                    if self._trailer_size + len(buf) > limit:
                        return self._fail(Reject(400, "trailer section too large"))
                    return self._wait_for_body()
                self._trailer_size += lf + 1
                if self._trailer_size > limit:
                    return self._fail(Reject(400, "trailer section too large"))
                line = bytes(buf[:lf]).rstrip(b"\r")
                del buf[: lf + 1]
                if not line:
                    return None
                if b":" not in line:
                    return self._fail(Reject(400, "malformed trailer field"))

    # --------------------------------------------------------------- response

    def _write_head(
        self,
        status: int,
        reason: str,
        fields: list[tuple[str, str]],
        framing: BodyFraming,
        body_length: int | None,
    ) -> bytes:
        lines = [f"HTTP/1.1 {status} {reason}"]
        lines += [f"{name}: {value}" for name, value in fields]
        if framing is BodyFraming.LENGTH:
            lines.append(f"Content-Length: {body_length}")
        elif framing is BodyFraming.CHUNKED:
            lines.append("Transfer-Encoding: chunked")
        if not self._keep_alive:
            lines.append("Connection: close")
        elif self._version_10:
            lines.append("Connection: keep-alive")
        lines.append("\r\n")
        return latin1("\r\n".join(lines))

    def _frame(self, data: bytes) -> bytes:
        if self._out_framing is BodyFraming.CHUNKED:
            return b"%x\r\n%b\r\n" % (len(data), data)
        return data

    def _write_end(self) -> bytes:
        if self._out_framing is BodyFraming.CHUNKED and not self._out_discard:
            return b"0\r\n\r\n"
        return b""
