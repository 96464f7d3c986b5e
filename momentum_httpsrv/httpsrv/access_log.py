"""The access log ``serve --access-log FILE`` writes: one line per request answered.

Each line is the Common Log Format with the time taken appended, as Apache's
``%h %l %u %t "%r" %>s %b %T`` with microseconds::

    127.0.0.1 - - [04/Dec/2026:16:52:07 +0000] "GET /hello HTTP/1.1" 200 12 0.000321

``%b`` is the number of body bytes sent (``-`` for none). The listener pays one ``is
None`` test per request while no log is configured; with one, a line costs a formatted
string and a buffered write (flushed a second after the first unflushed line, and at
close).
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from typing import TextIO

from .requests import Request

_FLUSH_EVERY = 1.0  # seconds
# What Apache's log escaping rewrites: a quote or backslash would end or confuse the
# quoted request field; bytes outside printable ASCII become \xhh (strings are Latin-1).
_UNSAFE = re.compile(r'[^\x21\x23-\x5b\x5d-\x7e]')


def _escaped_character(match: re.Match[str]) -> str:
    character = match.group()
    return "\\" + character if character in '"\\' else f"\\x{ord(character):02x}"


def escaped(text: str) -> str:
    """``text`` safe inside a quoted log field."""
    return _UNSAFE.sub(_escaped_character, text)


class AccessLog:
    """Lines to a text stream; ``open(path)`` for a file or ``-`` for stderr."""

    def __init__(self, stream: TextIO, owned: bool = False) -> None:
        self._stream = stream
        self._owned = owned
        self._stamp_second = -1
        self._stamp = ""
        self._flush_pending = False

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
            f'"{escaped(request.method)} {escaped(request.target)} HTTP/{request.http_version}" '
            f"{status} {body_bytes or '-'} {seconds:.6f}\n"
        )
        if not self._flush_pending:  # one flush a second at most, and a second late at most
            try:
                asyncio.get_running_loop().call_later(_FLUSH_EVERY, self._flush)
                self._flush_pending = True
            except RuntimeError:  # no event loop: written through
                self._stream.flush()

    def _flush(self) -> None:
        self._flush_pending = False
        if not self._stream.closed:
            self._stream.flush()

    def close(self) -> None:
        self._stream.flush()
        if self._owned:
            self._stream.close()
