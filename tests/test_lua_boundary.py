"""The Python/Lua boundary (lua/boundary.py): values kept in Lua under ids, retired when
the Python object naming them goes, and a broken rule reported as an error."""

from __future__ import annotations

import asyncio
import gc

import pytest

from momentum_httpsrv.console.control import LuaControlBinding
from momentum_httpsrv.console.mailqueue import MailQueue
from momentum_httpsrv.console.registry import ControlRegistry
from momentum_httpsrv.httpsrv.lua_binding import LuaHttpsrvBinding
from momentum_httpsrv.httpsrv.requests import Request
from momentum_httpsrv.httpsrv.responses import CollectingSink
from momentum_httpsrv.httpsrv.session import HttpSession
from momentum_httpsrv.lua.boundary import LuaBoundaryError, LuaIdTable
from momentum_httpsrv.lua.runtime import LuaScriptError, LuaState


class Owner:
    """A Python object that names Lua values by id."""


def test_values_retired_with_their_owner_are_forgotten() -> None:
    state = LuaState()
    ids = state.boundary.id_table("probe value")
    put = ids.lua_table.put
    owner = Owner()
    kept, dropped = put("kept"), put("dropped")
    ids.watch(owner, [dropped])
    assert ids.count() == 2
    del owner
    gc.collect()
    assert ids.count() == 1
    assert ids.lua_table.get(kept) == "kept"


def test_reading_a_retired_id_is_an_error_naming_it() -> None:
    state = LuaState()
    ids = state.boundary.id_table("probe value")
    owner = Owner()
    value_id = ids.lua_table.put("v")
    ids.watch(owner, [value_id])
    del owner
    gc.collect()
    ids.release()
    reader = state.lua.eval("function(ids, id) return ids.get(id) end")
    with pytest.raises(Exception, match=f"probe value {value_id} is not held here"):
        reader(ids.lua_table, value_id)


def test_a_trampoline_inside_a_host_call_raises() -> None:
    state = LuaState()
    ids = state.boundary.id_table("probe value")
    host = state.boundary.host_function(ids.count)
    with pytest.raises(LuaBoundaryError, match="inside a host call"):
        state.lua.eval("function(f) return f() end")(host)
    assert ids.count() == 0  # outside a host call the same trampoline runs


def test_a_console_command_whose_registry_was_replaced_is_an_error_not_a_nil_call() -> None:
    state = LuaState()
    control = LuaControlBinding(state, MailQueue())
    state.execute('msys.registerControl("probe", function(cc) print("ran") end)', "=site")
    [(words, command_id)] = control.registry.commands.items()
    assert control.registered_commands() == 1
    control.registry = ControlRegistry()
    gc.collect()
    assert control.registered_commands() == 0
    outcome = asyncio.run(control.run_command(command_id, list(words), "probe", xml=False))
    assert isinstance(outcome.error, LuaScriptError)
    assert f"console command {command_id} is not held here" in str(outcome.error)


def test_a_handler_id_never_registered_is_an_error() -> None:
    binding = LuaHttpsrvBinding(LuaState())

    async def run_unknown_handler() -> None:
        request = Request("GET", "/", "1.1", [], b"")
        await binding.run(999, HttpSession(request, CollectingSink()), keep_response=True)

    with pytest.raises(LuaScriptError, match="httpsrv handler 999 is not held here"):
        asyncio.run(run_unknown_handler())


def test_the_runtimes_own_host_functions_are_counted() -> None:
    """A print sink (behind Lua's print) that calls into Lua is caught, as a Lua error."""
    tables: list[LuaIdTable] = []
    state = LuaState(print_sink=lambda text: tables[0].count() and None)
    tables.append(state.boundary.id_table("probe value"))
    with pytest.raises(LuaScriptError, match="called from inside a host call"):
        state.execute("print('x')", "=probe")
