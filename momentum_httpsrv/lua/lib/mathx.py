"""``require("mathx")``: the C99 math functions thrLua's mathx module adds to ``math``.

They are the C library's own functions (``libm`` through ctypes), so edge cases (nan, inf,
signed zeros, subnormals, poles) come out exactly as thrLua's C module gives them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from collections.abc import Callable
from typing import Any

from lupa import lua51

from momentum_httpsrv.lua.lib._source import run_library_chunk

_LIBM = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")

UNARY = ("acosh", "asinh", "atanh", "cbrt", "erf", "erfc", "exp2", "expm1", "lgamma",
         "log1p", "log2", "logb", "nearbyint", "rint", "round", "trunc")
BINARY = ("copysign", "fdim", "fmax", "fmin", "hypot", "nextafter", "remainder")
RENAMED = {"gamma": "tgamma"}  # mathx's name: the C function


def _c_function(c_name: str, arity: int) -> Callable[..., float]:
    function = getattr(_LIBM, c_name)
    function.restype = ctypes.c_double
    function.argtypes = [ctypes.c_double] * arity
    return function


def _fma(x: float, y: float, z: float) -> float:
    return float(_c_function("fma", 3)(x, y, z))


def _scalbn(x: float, n: float) -> float:
    scalbn = _LIBM.scalbn
    scalbn.restype, scalbn.argtypes = ctypes.c_double, [ctypes.c_double, ctypes.c_int]
    return float(scalbn(x, max(-(2**31), min(2**31 - 1, int(n)))))  # (int) cast


def _fpclassify(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf"
    if x == 0:
        return "zero"
    return "normal" if abs(x) >= 2.2250738585072014e-308 else "subnormal"


def functions() -> dict[str, Callable[..., Any]]:
    """mathx's functions by name, on numbers Lua has already checked."""
    table: dict[str, Callable[..., Any]] = {}
    for name in UNARY:
        table[name] = _c_function(name, 1)
    for name in BINARY:
        table[name] = _c_function(name, 2)
    for name, c_name in RENAMED.items():
        table[name] = _c_function(c_name, 1)
    table["fma"] = _fma
    table["scalbn"] = _scalbn
    table["fpclassify"] = _fpclassify
    table["isfinite"] = math.isfinite
    table["isinf"] = math.isinf
    table["isnan"] = math.isnan
    table["isnormal"] = lambda x: _fpclassify(x) == "normal"
    return table


ARITY = {**dict.fromkeys(UNARY, 1), **dict.fromkeys(BINARY, 2), "gamma": 1, "fma": 3,
         "scalbn": 2, "fpclassify": 1, "isfinite": 1, "isinf": 1, "isnan": 1, "isnormal": 1}


def open_mathx(lua: lua51.LuaRuntime) -> Any:
    """Add mathx's functions to the state's ``math`` table and return it."""
    return run_library_chunk(
        lua, "mathx.lua", lua.table_from(functions()), lua.table_from(ARITY)
    )
