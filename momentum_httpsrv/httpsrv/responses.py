"""Response data, reason phrases, and the sink a session writes its response into.

A session never touches a socket: it commits its head and body to a ``ResponseSink``.
The listener provides a sink that frames bytes onto a connection; ``CollectingSink``
keeps everything in memory for offline calls and tests. Both paths share the same
session code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Protocol

from .requests import first_header

# Reasons Momentum's helper functions use (httpsrv.md §3.E), and the ones the server
# uses for the responses it generates itself (§1.3).
MOMENTUM_REASONS = {200: "OK", 403: "DENIED", 404: "NOT FOUND", 500: "ERROR"}


def standard_reason(code: int) -> str:
    """IANA reason phrase for ``code`` ("" for codes without one)."""
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""


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
    """A ResponseSink that keeps the response in memory (offline calls, tests)."""

    def __init__(self) -> None:
        self.response: Response | None = None
        self.finished = False
        self.aborted = False

    def start(
        self, status: int, reason: str, headers: list[tuple[str, str]], body_length: int | None
    ) -> None:
        headers = list(headers)
        if body_length is not None:
            headers.append(("Content-Length", str(body_length)))
        else:
            headers.append(("Transfer-Encoding", "chunked"))
        self.response = Response(status, reason, headers, b"", streamed=body_length is None)

    def write(self, data: bytes) -> None:
        assert self.response is not None, "write before start"
        self.response.body += data

    async def drain(self) -> None:
        return None

    def end(self) -> None:
        self.finished = True

    def abort(self) -> None:
        self.aborted = True

    @property
    def peer_gone(self) -> bool:
        return False
