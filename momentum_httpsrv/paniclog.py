"""Momentum's paniclog: where ``print`` from scripts, warnings and Lua tracebacks go.

Lines are written to a file (Momentum's ``<unix-ts>:<subsystem>: text`` shape) and kept in
an in-memory ring for the console's ``paniclog`` command and for tests.

The paniclog is a ``logging.Handler``: every entry is also a record of the
``momentum_httpsrv.paniclog`` logger, so pytest's ``caplog`` and any logging setup see
it. A warning or error identical to one written less than a minute ago is not written
again; when its minute is over, one line says how many times it came. A failing handler
hit by every request, or a stream of malformed requests, cannot flood the log; a
script's ``print`` lines are all kept.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from .config import Configuration
from .lua.errors import script_text

PANICLOG_LOGGER = logging.getLogger("momentum_httpsrv.paniclog")
# Without a handler configured by the application, records stop here (no "last resort"
# echo to stderr: the CLI echoes warnings itself).
PANICLOG_LOGGER.addHandler(logging.NullHandler())

LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
LEVEL_NAMES = {number: name for name, number in LEVELS.items()}
REPEAT_WINDOW = 60.0  # seconds
MAX_TRACKED_REPEATS = 1024  # distinct recent entries remembered for summarising
# Set where errors are reported by their caller in one line (holding_error_echo).
_ERROR_ECHO_HELD: ContextVar[bool] = ContextVar("paniclog_error_echo_held", default=False)


@dataclass(frozen=True)
class PaniclogEntry:
    timestamp: float
    level: str
    subsystem: str
    text: str


@dataclass
class _Repeats:
    since: float
    subsystem: str
    count: int = 0


class Paniclog(logging.Handler):
    """Append-only log file plus the last ``ring_size`` entries in memory."""

    def __init__(
        self,
        path: Path | None,
        ring_size: int = 1000,
        echo: Callable[[str, str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.path = path
        self._echo = echo  # (level, text): the CLI shows warnings and errors on stderr
        self._clock = clock
        self.entries: deque[PaniclogEntry] = deque(maxlen=ring_size)
        # (level, text) → its repeats in the window that began with its last write.
        self._recent: OrderedDict[tuple[str, str], _Repeats] = OrderedDict()
        self._file = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - lives with the node

    def write(self, text: str, level: str = "info", subsystem: str = "scriptlet") -> None:
        """Log ``text`` (Latin-1 text; one entry even if it spans lines)."""
        record = PANICLOG_LOGGER.makeRecord(
            PANICLOG_LOGGER.name, LEVELS[level], "paniclog", 0, text, (), None,
            extra={"subsystem": subsystem},
        )
        record.created = self._clock()
        self.handle(record)
        record.msg = script_text(text)  # other handlers (caplog) get Python text
        PANICLOG_LOGGER.handle(record)

    def emit(self, record: logging.LogRecord) -> None:
        level = LEVEL_NAMES.get(record.levelno, "info")
        text, subsystem = record.getMessage(), getattr(record, "subsystem", "scriptlet")
        now = record.created
        self._summarise_older_than(now - REPEAT_WINDOW)
        if level == "info":  # print output is the script's own: every line is kept
            self._append(PaniclogEntry(now, level, subsystem, text))
            return
        repeats = self._recent.get((level, text))
        if repeats is not None:
            repeats.count += 1
            return
        if len(self._recent) >= MAX_TRACKED_REPEATS:
            self._summarise(*self._recent.popitem(last=False))
        self._recent[(level, text)] = _Repeats(now, subsystem)
        self._append(PaniclogEntry(now, level, subsystem, text))

    def _summarise_older_than(self, start: float) -> None:
        while self._recent:
            key, repeats = next(iter(self._recent.items()))
            if repeats.since > start:
                return
            del self._recent[key]
            self._summarise(key, repeats)

    def _summarise(self, key: tuple[str, str], repeats: _Repeats) -> None:
        if repeats.count:
            level, text = key
            first_line = text.split("\n", 1)[0]
            times = "once more" if repeats.count == 1 else f"{repeats.count} times"
            self._append(PaniclogEntry(
                self._clock(), level, repeats.subsystem,
                f"{first_line} ... repeated {times} in the last minute",
            ))

    def _append(self, entry: PaniclogEntry) -> None:
        self.entries.append(entry)
        if self._echo is not None and not (entry.level == "error" and _ERROR_ECHO_HELD.get()):
            self._echo(entry.level, entry.text)
        if self._file is not None:
            line = f"{int(entry.timestamp)}:{entry.subsystem}: {entry.text}\n"
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

    @contextmanager
    def holding_error_echo(self) -> Iterator[None]:
        """Errors written in this context (this thread or task) go to the file and the ring
        but not to the echo: the caller reports the failure on the terminal itself, in one
        line (a failed reload), instead of every error and traceback that led to it."""
        token = _ERROR_ECHO_HELD.set(True)
        try:
            yield
        finally:
            _ERROR_ECHO_HELD.reset(token)

    def text(self) -> str:
        """Everything in the ring, one entry per line, each as the script wrote it (tests
        read this)."""
        return "".join(f"{script_text(entry.text)}\n" for entry in self.entries)

    def close(self) -> None:
        """Write the pending repeat counts, then close the file."""
        self._summarise_older_than(float("inf"))
        if self._file is not None:
            self._file.close()
            self._file = None
        super().close()


def paniclog_path_for(config: Configuration) -> Path:
    """``ec_logger { paniclog = "…" }`` if it names a writable place, else beside the
    configuration (a production path such as /var/log/ecelerity may not exist here)."""
    for logger in config.root.scopes("ec_logger"):
        target = logger.get_str("paniclog", None)
        if not target:
            continue
        target = target.split("=>", 1)[0]
        for scheme in ("cluster://", "file://"):
            if target.startswith(scheme):
                target = target[len(scheme) :]
        path = Path(target)
        if not path.is_absolute():
            path = config.directory / path
        if path.parent.is_dir():
            return path
    return config.directory / "paniclog.ec"
