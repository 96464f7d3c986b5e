"""The access log ``serve --access-log FILE`` writes: one line per request answered.

Each line is the Common Log Format with the time taken appended, as Apache's
``%h %l %u %t "%r" %>s %b %T`` with microseconds::

    127.0.0.1 - - [04/Dec/2026:16:52:07 +0000] "GET /hello HTTP/1.1" 200 12 0.000321

``%b`` is the number of body bytes sent (``-`` for none). The listener pays one ``is
None`` test per request while no log is configured; with one, a line costs a formatted
string and a buffered write (flushed at most once a second, and at close).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from .requests import Request

_FLUSH_EVERY = 1.0  # seconds


class AccessLog:
    """Lines to a text stream; ``open(path)`` for a file or ``-`` for stderr."""

    def __init__(self, stream: TextIO, owned: bool = False) -> None:
        self._stream = stream
        self._owned = owned
        self._stamp_second = -1
        self._stamp = ""
        self._flushed_at = 0.0

    @classmethod
    def open(cls, path: str) -> AccessLog:
        if path == "-":
            return cls(sys.stderr)
        return cls(open(path, "a", encoding="utf-8", errors="backslashreplace"), owned=True)  # noqa: SIM115

    def request(self, request: Request, status: int, body_bytes: int, seconds: float) -> None:
        """Log one answered request."""
        now = time.time()
        second = int(now)
        if second != self._stamp_second:  # the timestamp is formatted once a second
            self._stamp_second = second
            self._stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(second))
        peer = request.connection.peer
        self._stream.write(
            f'{peer[0] if peer else "-"} - - [{self._stamp}] '
            f'"{request.method} {request.target} HTTP/{request.http_version}" {status} '
            f"{body_bytes or '-'} {seconds:.6f}\n"
        )
        if now - self._flushed_at >= _FLUSH_EVERY:
            self._flushed_at = now
            self._stream.flush()

    def close(self) -> None:
        self._stream.flush()
        if self._owned:
            self._stream.close()
