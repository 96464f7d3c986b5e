"""Reading the files a configuration names (its own, its includes, its scripts) safely:
only regular files, and none larger than MAX_SOURCE_BYTES. A FIFO would block the reader
until someone writes to it and ``/dev/zero`` never ends, so neither is opened for reading."""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_SOURCE_BYTES = 16 * 1024 * 1024

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class UnreadableSourceError(OSError):
    """A configured file is not a regular file, or is too large; ``str()`` says which."""


def read_regular_file(path: Path, max_bytes: int = MAX_SOURCE_BYTES) -> bytes:
    """The bytes of ``path``; UnreadableSourceError (an OSError) for anything but a
    regular file of at most ``max_bytes``. Opened non-blocking, checked again once open."""
    _check_kind(path, os.stat(path).st_mode)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as file:
        _check_kind(path, os.fstat(fd).st_mode)  # it may have been replaced meanwhile
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnreadableSourceError(
            f"{path}: larger than {max_bytes // (1024 * 1024)} MB; not read"
        )
    return data


def _check_kind(path: Path, mode: int) -> None:
    for test, kind in _KINDS:
        if test(mode):
            raise UnreadableSourceError(f"{path}: {kind}, not a regular file; not read")
