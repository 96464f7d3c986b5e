"""Where the Lua files we ship for scripts live (a leaf: the runtime and line coverage
both need it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def shipped_lua_dir() -> Path:
    """The Lua files we ship for scripts to require (msys.getopt, Test.More, …), the
    stand-in for Momentum's libexec/scriptlets: the repository's top-level ``lua/``,
    installed as the ``momentum_httpsrv.shipped_lua`` package data (pyproject.toml)."""
    spec = importlib.util.find_spec("momentum_httpsrv.shipped_lua")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("momentum_httpsrv.shipped_lua is not installed; reinstall the package")
    return Path(next(iter(spec.submodule_search_locations)))


SHIPPED_LUA_DIR = shipped_lua_dir()
