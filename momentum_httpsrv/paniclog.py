"""Momentum's paniclog: where ``print`` from scripts, warnings and Lua tracebacks go.

Lines are written to a file (Momentum's ``<unix-ts>:<subsystem>: text`` shape) and kept in
an in-memory ring for the console's ``paniclog`` command and for tests.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PaniclogEntry:
    timestamp: float
    level: str
    subsystem: str
    text: str


class Paniclog:
    """Append-only log file plus the last ``ring_size`` entries in memory."""

    def __init__(
        self,
        path: Path | None,
        ring_size: int = 1000,
        echo: Callable[[str, str], None] | None = None,
    ) -> None:
        self.path = path
        self._echo = echo  # (level, text): the CLI shows warnings and errors on stderr
        self.entries: deque[PaniclogEntry] = deque(maxlen=ring_size)
        self._file = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - lives with the node

    def write(self, text: str, level: str = "info", subsystem: str = "scriptlet") -> None:
        """Log ``text`` (Latin-1 text; one entry even if it spans lines)."""
        entry = PaniclogEntry(time.time(), level, subsystem, text)
        self.entries.append(entry)
        if self._echo is not None:
            self._echo(level, text)
        if self._file is not None:
            line = f"{int(entry.timestamp)}:{subsystem}: {text}\n"
            self._file.write(line.encode("latin-1", "replace"))

    def warn(self, text: str) -> None:
        self.write(text, level="warning")

    def error(self, text: str, traceback: str | None = None) -> None:
        """An error and its traceback as one entry; Lua tracebacks already start with
        the message, so it is not written twice."""
        if traceback and not traceback.startswith(text):
            text = f"{text}\n{traceback}"
        elif traceback:
            text = traceback
        self.write(text, level="error")

    def text(self) -> str:
        """Everything in the ring, one entry per line (tests read this)."""
        return "".join(f"{entry.text}\n" for entry in self.entries)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
