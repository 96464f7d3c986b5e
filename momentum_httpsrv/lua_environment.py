"""The Lua environment every script runs in: a Lua state with the HTTP and console
bindings installed, and the ``scriptlet`` limits it runs under. A generation's scripts,
the ``lua`` command and the pytest plugin's Lua tests all get theirs here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .config import ConfigScope, Configuration, ConfigValueError
from .console.control import LuaControlBinding
from .console.mailqueue import MailQueue
from .httpsrv.lua_binding import LuaHttpsrvBinding
from .lua.hooks import DEFAULT_CPU_LIMIT
from .lua.lib.policy_data import PolicyData
from .lua.msys_core import BindingTable
from .lua.runtime import DEFAULT_MAX_MEMORY, LuaState


@dataclass(frozen=True)
class LuaLimits:
    """How long Lua may run without yielding and how much memory a state may hold:
    ``scriptlet { CPU_Time_Limit = seconds; Memory_Limit = megabytes }``, 0 for none."""

    cpu_seconds: float = DEFAULT_CPU_LIMIT
    memory_bytes: int = DEFAULT_MAX_MEMORY

    @classmethod
    def from_config(cls, scriptlet: ConfigScope | None) -> LuaLimits:
        if scriptlet is None:
            return cls()
        values = []
        for name, convert, default in (
            ("cpu_time_limit", "as_float", DEFAULT_CPU_LIMIT),
            ("memory_limit", "as_int", DEFAULT_MAX_MEMORY // 2**20),
        ):
            option = scriptlet.option(name)
            value = default if option is None else getattr(option, convert)()
            if option is not None and value < 0:
                raise ConfigValueError(option.location, f"{option.name} must be 0 or more")
            values.append(value)
        return cls(cpu_seconds=values[0], memory_bytes=int(values[1]) * 2**20)


class LuaEnvironment(NamedTuple):
    """A Lua state as every script sees it, and the bindings that installed its APIs."""

    state: LuaState
    httpsrv: LuaHttpsrvBinding
    control: LuaControlBinding


def create_lua_environment(
    search_path: list[Path],
    print_sink: Callable[[str], None],
    warn: Callable[[str], None],
    gc_pause: int = 100,
    gc_stepmul: int = 400,
    mail_queue: MailQueue | None = None,
    policy_data: PolicyData | None = None,
    config: Configuration | None = None,
    limits: LuaLimits | None = None,
) -> LuaEnvironment:
    """A Lua state with everything Momentum scripts may use (msys.*, json, httpsrv,
    registerControl…): the one environment of loaded scripts, `lua` and Lua tests.
    ``mail_queue`` and ``policy_data`` are the node's, which outlive its generations;
    without a ``config``, what needs one (msys.config, binding look-ups) says so."""
    limits = limits or LuaLimits()
    state = LuaState(
        search_path, print_sink=print_sink, warn=warn, gc_pause=gc_pause,
        gc_stepmul=gc_stepmul, policy_data=policy_data,
        cpu_limit=limits.cpu_seconds, max_memory=limits.memory_bytes,
    )
    httpsrv = LuaHttpsrvBinding(state)
    control = LuaControlBinding(state, mail_queue or MailQueue(), config)
    if config is None:
        state.api.needs_configuration("config")
    else:
        state.bindings = BindingTable.from_config(config.root)
    return LuaEnvironment(state, httpsrv, control)
