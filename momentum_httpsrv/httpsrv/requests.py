"""The request as the dispatcher sees it: parsed, body complete, no sockets attached."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

_connection_ids = itertools.count(1)


def first_header(headers: list[tuple[str, str]], name: str) -> str | None:
    """First value of a header, matched case-insensitively
    (docs/request-lifecycle.md#the-session-object)."""
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


def next_connection_id() -> int:
    """Connection ids are unique per process, like Momentum's accept-construct conn_id."""
    return next(_connection_ids)


@dataclass(frozen=True)
class ConnectionInfo:
    """What Momentum's accept construct knows about a connection
    (docs/request-lifecycle.md#from-bytes-to-a-request)."""

    conn_id: int
    listener: str  # the Listen address exactly as configured, e.g. "127.0.0.1:2081"
    peer: tuple[str, int] | None = None  # remote (ip, port); None offline
    local: tuple[str, int] | None = None  # local (ip, port) actually bound; None offline
    scheme: str = "http"  # "https" on a Use_SSL listener
    subject_cn: str | None = None  # first CN of a verified client certificate


OFFLINE_CONNECTION = ConnectionInfo(conn_id=0, listener="offline")


@dataclass
class Request:
    """One complete HTTP request.

    Strings are Latin-1 decoded bytes (see the package docstring). ``headers`` keeps the
    order and spelling the client sent; values are stripped of surrounding whitespace.
    """

    method: str
    target: str
    http_version: str = "1.1"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    connection: ConnectionInfo = OFFLINE_CONNECTION

    def header(self, name: str) -> str | None:
        return first_header(self.headers, name)
