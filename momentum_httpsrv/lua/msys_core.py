"""Constants and host functions behind ``msys.core`` (the Lua side is ``msys_core.lua``)."""

from __future__ import annotations

import errno
import io
import os

from .outside import WORLD

# Momentum does not document the numeric values; scripts compare against the names.
# O_* follow the host, as lua-runtime.md §4.2 asks.
CORE_CONSTANTS: dict[str, int] = {
    "VALIDATE_CONT": 0,
    "VALIDATE_DONE": 1,
    "VALIDATE_AGAIN": 2,
    "EC_AUTH_OK": 0,
    "EC_AUTH_FAIL": 1,
    "EC_AUTH_ERROR": 2,
    "ECTP_CLASS_SHORT_LIVED": -1,
    "ECTP_COMPLETE_CALLBACK": 1,
    "ECTP_COMPLETE_CALLBACK_SCHED": 2,
    "ECMESS_CTX_MESS": 0,
    "ECMESS_CTX_CONN": 1,
    "VCTX_MESS": 0,
    "VCTX_CONN": 1,
    "EC_MSG_ENV_FROM": 1,
    "EC_MSG_ENV_TO": 2,
    "EC_MSG_ENV_COMPLETE": 3,
    "AF_INET": 2,
    "AF_INET6": 10,
    "P_HTTP": 16,
    "O_RDONLY": os.O_RDONLY,
    "O_WRONLY": os.O_WRONLY,
    "O_RDWR": os.O_RDWR,
    "O_CREAT": os.O_CREAT,
    "O_APPEND": os.O_APPEND,
    "O_TRUNC": os.O_TRUNC,
    "O_EXCL": os.O_EXCL,
    "O_BINARY": getattr(os, "O_BINARY", 0),
}


def now_ts() -> int:
    """``msys.core.get_now_ts``: epoch seconds (of the test's clock when one is in place)."""
    return int(WORLD.clock.time())


# -- io_wrapper_open: the one Python object handed to Lua per open file is an unbuffered
# FileIO held by the Lua io_object. It is released by close(), or when Lua collects the
# io_object and with it lupa's wrapper (FileIO closes its descriptor when freed).

_WHENCE = {"set": os.SEEK_SET, "cur": os.SEEK_CUR, "end": os.SEEK_END}


def wrapper_path(name: str) -> tuple[str, bool]:
    """The file behind an io_wrapper URI, and whether it is append-only: ``file://path``
    is the path; ``jlog://path=>subscriber`` becomes an append to the plain file."""
    if name.startswith("file://"):
        return name[len("file://"):], False
    if name.startswith("jlog://"):
        return name[len("jlog://"):].partition("=>")[0], True
    return name, False


def _failure(error: OSError) -> tuple[None, int, str]:
    code = error.errno or errno.EIO
    return None, code, f"{error.filename}: {os.strerror(code)}"


def io_open(name: str, flags: float, mode: float) -> tuple:
    path, journal = wrapper_path(name)
    flags = int(flags)
    if journal:
        flags |= os.O_WRONLY | os.O_APPEND | os.O_CREAT
    try:
        fd = os.open(path, flags, int(mode))
    except OSError as error:
        return _failure(error)
    return (io.FileIO(fd, _file_mode(flags), closefd=True),)


def _file_mode(flags: int) -> str:
    access = flags & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR)
    if access == os.O_RDWR:
        return "r+"
    return "w" if access == os.O_WRONLY else "r"


def io_read(file: io.FileIO, fmt: object) -> tuple:
    """Lua ``file:read`` formats over a file: a byte count, ``*a`` or ``*l``."""
    try:
        fd = file.fileno()
        if isinstance(fmt, int | float):
            data = os.read(fd, int(fmt))
            return (data.decode("latin-1"),) if data else (None,)
        if fmt in ("*a", "a"):
            parts = []
            while chunk := os.read(fd, 1 << 16):
                parts.append(chunk)
            return (b"".join(parts).decode("latin-1"),)
        if fmt in ("*l", "l"):
            line = bytearray()
            while (byte := os.read(fd, 1)) and byte != b"\n":
                line += byte
            return (line.decode("latin-1"),) if line or byte else (None,)
    except OSError as error:
        return _failure(error)
    return None, errno.EINVAL, f"invalid read format {fmt!r}"


def io_write(file: io.FileIO, data: str) -> tuple:
    try:
        return (file.write(data.encode("latin-1")),)
    except OSError as error:
        return _failure(error)


def io_seek(file: io.FileIO, whence: str, offset: float) -> tuple:
    if whence not in _WHENCE:
        return None, errno.EINVAL, f"invalid seek option {whence!r}"
    try:
        return (file.seek(int(offset), _WHENCE[whence]),)
    except OSError as error:
        return _failure(error)


def io_close(file: io.FileIO) -> None:
    file.close()


def read_file(name: str) -> tuple:
    """``msys.readfile``: the whole file as a Latin-1 string, or ``None, reason``."""
    path, _ = wrapper_path(name)
    try:
        with open(path, "rb") as handle:
            return (handle.read().decode("latin-1"),)
    except OSError as error:
        return None, f"{name}: {os.strerror(error.errno or errno.EIO)}"


CORE_HOST_FUNCTIONS = {
    "now": now_ts,
    "io_open": io_open,
    "io_read": io_read,
    "io_write": io_write,
    "io_seek": io_seek,
    "io_close": io_close,
}
