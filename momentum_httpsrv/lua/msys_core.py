"""Constants and host functions behind ``msys.core`` (the Lua side is ``msys_core.lua``)."""

from __future__ import annotations

import os
import time

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
    """``msys.core.get_now_ts``: epoch seconds."""
    return int(time.time())
