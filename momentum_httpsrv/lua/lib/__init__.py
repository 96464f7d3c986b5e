"""Momentum's Lua libraries that scripts ``require``: json, xml, msys.pcre, msys.base64,
msys.dumper, msys.os, mathx, yaml. (The policy data packages — msys.cidr,
msys.audit_series, msys.gauge_cache, msys.counter — open over a node's stores:
policy_data.py.)

``LIBRARY_OPENERS`` maps each require-name to an opener that builds the module table in a Lua
state; the runtime calls it at most once per state, from ``package.preload``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lupa import lua51

from momentum_httpsrv.lua.lib.base64 import open_base64
from momentum_httpsrv.lua.lib.dumper import open_dumper
from momentum_httpsrv.lua.lib.json import open_json
from momentum_httpsrv.lua.lib.mathx import open_mathx
from momentum_httpsrv.lua.lib.msys_os import open_msys_os
from momentum_httpsrv.lua.lib.pcre import open_pcre
from momentum_httpsrv.lua.lib.xml import open_xml
from momentum_httpsrv.lua.lib.yaml import open_yaml

LIBRARY_OPENERS: dict[str, Callable[[lua51.LuaRuntime], Any]] = {
    "json": open_json,
    "msys.pcre": open_pcre,
    "pcre": open_pcre,
    "xml": open_xml,
    "msys.base64": open_base64,
    "msys.dumper": open_dumper,
    "mathx": open_mathx,
    "yaml": open_yaml,
    "msys.os": open_msys_os,
}
