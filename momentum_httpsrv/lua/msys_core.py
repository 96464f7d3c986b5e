"""Constants and host functions behind ``msys.core`` (the Lua side is ``msys_core.lua``)."""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ..config import ConfigScope
from .outside import WORLD

# Momentum documents few numeric values (those it does are used); scripts compare against
# the names.
# O_* follow the host (docs/emulation.md#the-runtime-and-msys).
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
    # Reception and delivery protocols (msg.recv_method); P_HTTP is httpsrv's.
    "P_SMTP": 1,
    "P_ESMTP": 2,
    "P_INTERNAL": 4,
    "P_MM7": 8,
    "P_SMPP": 32,
    "P_XMPP": 64,
    # ec_message_extract_part_to_string's rendering flags, OR-ed together.
    "EC_MSG_RENDER_OMIT_DOT": 1,
    "EC_MSG_RENDER_CALCULATE_LENGTH_ONLY": 2,
    "EC_MSG_RENDER_HEADERS_ONLY": 4,
    "EC_MSG_RENDER_XML": 8,
    "EC_MSG_RENDER_OMIT_HEADERS": 16,
    "EC_MSG_RENDER_OMIT_EPILOGUE": 32,
    "EC_MSG_RENDER_UNSTUFFED": 64,
    "EC_MSG_RENDER_DEBUG": 128,
    "EC_MSG_RENDER_AVOID_IO": 256,
    "EC_MSG_RENDER_SUPPRESS_WRITE_ERRORS": 512,
    # ec_string storage types: the negative ones are the values misc/ec_string.h has
    # (Momentum 3 API docs, "string"); ECSTRING's (a memory type) is not published.
    "STRING_TYPE_ECSTRING": 0,
    "STRING_TYPE_STATIC": -100,
    "STRING_TYPE_DISK_BACKED": -101,
    "STRING_TYPE_IO_OBJECT": -102,
    "STRING_TYPE_GROWBUF": -103,
    "STRING_TYPE_GROWABLE_STATIC": -104,
    # RFC 3464 actions (msys.rfc3464.*).
    "FAILED": 1,
    "DELAYED": 2,
    "DELIVERED": 3,
    "RELAYED": 4,
    "EXPANDED": 5,
    # core_final_validation2's statuses, as its hook reference numbers them.
    "EC_HOOK_CONT": 0,
    "EC_HOOK_DONE": 1,
    "EC_HOOK_RETRY": 2,
    "EM_SUCCEEDED": 0,
    "LOG_WARNING": 4,  # syslog's
    "EC_MIME_TE_7BIT": 0,
    "EC_MIME_TE_8BIT": 1,
    "EC_MIME_TE_QUOTED_PRINTABLE": 2,
    "EC_MIME_TE_BASE64": 3,
    # msys.runSieveScript's request flags and phases.
    "SIEVEREQ_MSG": 1,
    "SIEVEREQ_MSG_BODY": 2,
    "SIEVEREQ_ENV_FROM": 4,
    "SIEVEREQ_ENV_TO": 8,
    "SIEVEREQ_AC": 16,
    "SIEVEREQ_550_OK": 32,
    "SIEVEREQ_DNS_LOOKUP_OK": 64,
    "SIEVEREQ_PHASE_CONNECT": 1,
    "SIEVEREQ_PHASE_ACCEPT": 2,
    "SIEVEREQ_PHASE_EHLO": 3,
    "SIEVEREQ_PHASE_MAILFROM": 4,
    "SIEVEREQ_PHASE_RCPTTO": 5,
    "SIEVEREQ_PHASE_DATA": 6,
    "SIEVEREQ_PHASE_SPOOL": 7,
    "SIEVEREQ_PHASE_EACH_RCPT": 8,
}

# Validation-context keys Momentum fills (policy scriptlet docs list them by name).
CORE_STRING_CONSTANTS: dict[str, str] = {
    "STANDARD_KEY_MAILFROM_DOMAIN": "mailfrom_domain",
    "STANDARD_KEY_MAILFROM_LOCALPART": "mailfrom_localpart",
    "STANDARD_KEY_RCPTTO_DOMAIN": "rcptto_domain",
    "STANDARD_KEY_RCPTTO_LOCALPART": "rcptto_localpart",
    "STANDARD_KEY_EHLO_DOMAIN": "ehlo_domain",
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


@dataclass
class BindingTable:
    """The configuration's binding slots (``config_get_binding_*``): slot 0 is the
    ``default`` binding, then every ``Binding`` in file order, those inside a
    ``Binding_Group`` included."""

    names: list[str] = field(default_factory=lambda: ["default"])
    group_sizes: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_config(cls, root: ConfigScope) -> BindingTable:
        table = cls()
        for scope in root.scopes():
            kind = scope.kind.lower()
            if kind == "binding":
                table._add(scope)
            elif kind == "binding_group" and scope.name is not None:
                members = scope.scopes("Binding")
                table.group_sizes[scope.name] = len(members)
                for member in members:
                    table._add(member)
        return table

    def _add(self, scope: ConfigScope) -> None:
        if scope.name is not None and scope.name not in self.names:
            self.names.append(scope.name)

    def lookup(self, what: str, key: object) -> object:
        """``id`` of a name (-1 if none), ``name`` of a slot (None), ``group_size`` of a
        group name (0)."""
        if what == "id":
            return self.names.index(key) if key in self.names else -1
        if what == "name":
            slot = int(key) if isinstance(key, int | float) and key == int(key) else -1
            return self.names[slot] if 0 <= slot < len(self.names) else None
        return self.group_sizes.get(str(key), 0)


CORE_HOST_FUNCTIONS: dict[str, Callable[..., object]] = {
    "now": now_ts,
    "io_open": io_open,
    "io_read": io_read,
    "io_write": io_write,
    "io_seek": io_seek,
    "io_close": io_close,
}
