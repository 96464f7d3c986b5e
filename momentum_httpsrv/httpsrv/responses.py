"""Response data, reason phrases, and the sink a session writes its response into.

A session never touches a socket: it commits its head and body to a ``ResponseSink``.
The listener provides a sink that frames bytes onto a connection; ``CollectingSink``
keeps everything in memory for offline calls and tests. Both paths share the same
session code and the same framing rules (``protocol.response_fields`` and
``protocol.response_framing``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Protocol

from .protocol import BodyFraming, response_fields, response_framing
from .requests import Request, first_header

_date_second = -1
_date_text = ""


def http_date() -> str:
    """The current time as an HTTP Date value, formatted at most once per second."""
    global _date_second, _date_text
    second = int(time.time())
    if second != _date_second:
        _date_text = formatdate(second, usegmt=True)
        _date_second = second
    return _date_text


class ResponseSink(Protocol):
    """Where a committed response goes. Implemented by the listener and by CollectingSink."""

    def start(
        self, status: int, reason: str, headers: list[tuple[str, str]], body_length: int | None
    ) -> None:
        """Commit status and headers. ``body_length`` None means the body is streamed
        (chunked for HTTP/1.1, close-delimited for HTTP/1.0); framing headers
        (Content-Length, Transfer-Encoding, Connection, Date) are the sink's job."""

    def write(self, data: bytes) -> None:
        """Queue body bytes; never blocks."""

    async def drain(self) -> None:
        """Wait until queued bytes have been handed to the peer (back-pressure)."""

    def end(self) -> None:
        """The body is complete."""

    def respond(
        self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        """``start`` with ``len(body)``, ``write``, ``end`` in one call: a whole response
        (the sink may frame and send it at once)."""

    def abort(self) -> None:
        """The response cannot be finished (an error after the head went out): drop the
        connection so the client sees a truncated response, never a wrong one."""

    @property
    def peer_gone(self) -> bool:
        """True once the client has disconnected; further output is discarded."""


@dataclass
class Response:
    """A finished response as the client received it (body de-framed)."""

    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    streamed: bool = False

    def header(self, name: str) -> str | None:
        return first_header(self.headers, name)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def render(self, http_version: str = "1.1") -> bytes:
        """The response as ``curl -i`` shows it: status line, headers, blank line, body."""
        lines = [f"HTTP/{http_version} {self.status} {self.reason}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        head = "\r\n".join(lines) + "\r\n\r\n"
        return head.encode("latin-1") + self.body


class CollectingSink:
    """A ResponseSink that keeps the response in memory (offline calls, tests), as the
    listener would send it to ``request``: the same header checks (ResponseError), Date
    and framing headers, no body for HEAD, 204 and 304, ``Connection: close`` when the
    connection would close (``keep_alive`` False: the request asked for it)."""

    def __init__(self, request: Request | None = None, keep_alive: bool = True) -> None:
        self.response: Response | None = None
        self.finished = False
        self.aborted = False
        self._head_request = request is not None and request.method == "HEAD"
        self._version_10 = request is not None and request.http_version == "1.0"
        self._keep_alive = keep_alive
        self._send_body = True

    def start(
        self, status: int, reason: str, headers: list[tuple[str, str]], body_length: int | None
    ) -> None:
        fields = self._head_fields(status, reason, headers, body_length)
        self.response = Response(status, reason, fields, b"", streamed=body_length is None)

    def _head_fields(
        self, status: int, reason: str, headers: list[tuple[str, str]], body_length: int | None
    ) -> list[tuple[str, str]]:
        """The head's fields as the listener would send them; notes whether body bytes
        are kept."""
        fields, close = response_fields(status, reason, headers, http_date())
        framing, self._send_body, close_delimited = response_framing(
            status, body_length, self._head_request, self._version_10, disable_chunked=False
        )
        if framing is BodyFraming.LENGTH:
            fields.append(("Content-Length", str(body_length)))
        elif framing is BodyFraming.CHUNKED:
            fields.append(("Transfer-Encoding", "chunked"))
        if close or close_delimited or not self._keep_alive:
            fields.append(("Connection", "close"))
        return fields

    def write(self, data: bytes) -> None:
        assert self.response is not None, "write before start"
        if self._send_body:
            self.response.body += data

    async def drain(self) -> None:
        return None

    def end(self) -> None:
        self.finished = True

    def respond(
        self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        fields = self._head_fields(status, reason, headers, len(body))
        self.response = Response(status, reason, fields, body if self._send_body else b"")
        self.end()

    def abort(self) -> None:
        self.aborted = True

    @property
    def peer_gone(self) -> bool:
        return False
