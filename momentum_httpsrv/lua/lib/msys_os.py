"""``require("msys.os")``: ``statvfs_subscribe(path, interval)`` and
``statvfs_read(record_or_path)`` over the real file system.

A subscription is a snapshot stream: a read returns the latest snapshot, taken again
once the smallest interval subscribed for that path has passed (``version`` counts the
snapshots). Interval 0 means the default, 10 seconds here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lupa import lua51

from momentum_httpsrv.lua.lib._source import run_library_chunk

DEFAULT_INTERVAL = 10.0


@dataclass
class StatvfsStream:
    interval: float
    version: int = 0
    taken: float = float("-inf")
    snapshot: dict[str, int] | None = None


class StatvfsStreams:
    """Subscriptions by path; snapshots are ``os.statvfs`` of the path."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.streams: dict[str, StatvfsStream] = {}
        self._clock = clock

    def subscribe(self, path: str, interval: float) -> None:
        wanted = float(interval) if interval > 0 else DEFAULT_INTERVAL
        stream = self.streams.get(path)
        if stream is None:
            self.streams[path] = StatvfsStream(wanted)
        else:
            stream.interval = min(stream.interval, wanted)

    def read(self, path: str) -> tuple:
        """The snapshot as a table's fields, or ``None, message``."""
        stream = self.streams.get(path)
        if stream is None:
            return None, f"no statvfs subscription for '{path}'"
        now = self._clock()
        if stream.snapshot is None or now - stream.taken >= stream.interval:
            try:
                stats = os.statvfs(path)
            except OSError as error:
                return None, f"statvfs({path}): {error.strerror}"
            stream.version += 1
            stream.taken = now
            stream.snapshot = {
                "kilobytes_available": stats.f_bavail * stats.f_frsize // 1024,
                "kilobytes_total": stats.f_blocks * stats.f_frsize // 1024,
                "objects_available": stats.f_favail,
                "objects_total": stats.f_files,
            }
        return ({"version": stream.version, **stream.snapshot},)


def open_msys_os(lua: lua51.LuaRuntime) -> Any:
    """Create the ``msys.os`` module table in ``lua``."""
    streams = StatvfsStreams()

    def read(path: str) -> tuple:
        result = streams.read(path)
        if result[0] is None:
            return result
        return (lua.table_from(result[0]),)

    return run_library_chunk(lua, "msys_os.lua", streams.subscribe, read)
