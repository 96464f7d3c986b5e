"""The Momentum Lua environment: print routing, require, msys autoload and stubs,
module hooks, errors shaped as script:line: message."""

import asyncio

import pytest

from momentum_httpsrv.lua.runtime import LuaScriptError, LuaState, ResumeBatches


@pytest.fixture
def printed():
    return []


@pytest.fixture
def state(printed, tmp_path):
    return LuaState([tmp_path], print_sink=printed.append)


def test_print_is_routed_and_binary_safe(state, printed):
    state.execute('print(1, nil, true, "a\\0\\255")', "=t")
    state.execute('print("back")', "=t")
    assert printed == ["1\tnil\ttrue\ta\x00\xff", "back"]


def test_no_python_bridge_in_lua(state):
    assert state.execute("return type(python)", "=t") == ("nil",)


def test_runtime_error_has_script_line_and_traceback(state):
    with pytest.raises(LuaScriptError) as caught:
        state.execute("local a = 1\nlocal t = nil\nreturn t.x\n", "@site/api.lua")
    assert caught.value.message == "site/api.lua:3: attempt to index local 't' (a nil value)"
    assert "stack traceback" in caught.value.traceback
    assert "prelude.lua" not in caught.value.traceback


def test_syntax_error_has_script_line(state):
    with pytest.raises(LuaScriptError, match=r"^bad\.lua:2: unexpected symbol near '='"):
        state.execute("local x = 1\nx = = 2\n", "@bad.lua")


def test_require_finds_scripts_on_the_search_path(state, tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "helper.lua").write_text("return { answer = 42 }\n")
    (tmp_path / "broken.lua").write_text("return {\n")
    assert state.execute('return require("lib.helper").answer', "=t") == (42,)
    with pytest.raises(LuaScriptError, match=r"error loading module 'broken' from file .*\.lua"):
        state.execute('require("broken")', "=t")
    with pytest.raises(LuaScriptError, match="module 'nowhere' not found"):
        state.execute('require("nowhere")', "=t")


def test_msys_namespaces_autoload_and_unknown_ones_are_lazy_stubs(state):
    ok, message = state.execute(
        'local m = require("msys.extended.message"); return pcall(m.get_header)', "=t"
    )
    assert (ok, message) == (False, "not emulated: msys.extended.message.get_header")
    assert state.execute("return msys.core == require('msys.core')", "=t") == (True,)
    assert state.execute("return type(msys.core.dict_next)", "=t") == ("function",)
    assert state.execute("return msys.pbp ~= nil", "=t") == (True,)  # loads fine


def test_loadstring_and_dofile_work(state, tmp_path):
    (tmp_path / "f.lua").write_text("return ... or 'none'\n")
    assert state.execute("return loadstring('return 1 + 1')()", "=t") == (2,)
    assert state.execute(f"return dofile('{tmp_path / 'f.lua'}')", "=t") == ("none",)
    ok, message = state.execute("return loadstring('x = = 1', '=chunk')", "=t")
    assert ok is None and message.startswith("chunk:1:")


def test_module_hooks_in_registration_order(state, printed):
    state.execute(
        """
        local a, b, c = {}, {}, { not_a_method = 1 }
        function a:init() print("a init") return true end
        function b:init() print("b init") return "yes" end
        function b:rsrc_setup() error("setup failed") end
        function a:config_rsrc_setup() return true end
        msys.registerModule("a", a)
        msys.registerModule("b", b)
        msys.registerModule("c", c)
        """,
        "@mods.lua",
    )
    warnings = []
    state.warn = warnings.append
    init = state.call_hook("init")
    assert [(r.module, r.ok, r.value) for r in init] == [("a", True, True), ("b", True, "yes")]
    assert printed == ["a init", "b init"]
    setup = state.call_hook("rsrc_setup")
    assert [(r.module, r.ok) for r in setup] == [("a", True), ("b", False)]
    assert setup[1].value == "mods.lua:5: setup failed"
    assert state.module_names() == ["a", "b"]


def test_module_without_methods_warns(tmp_path):
    warnings = []
    state = LuaState([tmp_path], warn=warnings.append)
    state.execute('msys.registerModule("empty", {})', "=t")
    assert warnings == [
        "no usable methods found for module empty in registerModule call"
    ]


def test_sleep_suspends_inside_tasks_only(state):
    chunk = state.compile(
        "local before = msys.asyncOk(); msys.sleep(0.01); return before, 'woke'", "=t"
    )
    assert asyncio.run(state.run_in_task(chunk)) == (True, "woke")
    assert state.execute("return msys.asyncOk()", "=t") == (False,)
    with pytest.raises(LuaScriptError, match="bad argument #1 to 'sleep'"):
        state.execute("msys.sleep('x')", "=t")


def test_tasks_woken_together_resume_a_batch_per_loop_iteration(state):
    """100 tasks whose msys.sleep(0) ends in the same loop iteration are resumed a batch
    per iteration, so a request arriving meanwhile is not queued behind all of them."""
    resumed = [0]
    per_iteration: list[int] = []
    state.lua.globals().note_resumed = lambda: resumed.__setitem__(0, resumed[0] + 1)
    chunk = state.compile("msys.sleep(0); note_resumed(); return 'woke'", "=t")

    async def main() -> list[tuple]:
        loop = asyncio.get_running_loop()
        running = True

        def probe() -> None:  # runs once per loop iteration
            per_iteration.append(resumed[0])
            resumed[0] = 0
            if running:
                loop.call_soon(probe)

        loop.call_soon(probe)
        results = await asyncio.gather(*(state.run_in_task(chunk) for _ in range(100)))
        running = False
        return results

    assert asyncio.run(main()) == [("woke",)] * 100
    assert sum(per_iteration) + resumed[0] == 100
    assert 0 < max(per_iteration) <= 2 * ResumeBatches.per_turn


def test_loadstring_returns_nil_and_message_for_a_rejected_escape(state):
    ok, message = state.execute(r"""return loadstring('return "\\xZZ"', '=chunk')""", "=t")
    assert ok is None and message.startswith("chunk:1:")


def test_shebang_line_is_skipped_and_lines_kept(state, tmp_path):
    (tmp_path / "script.lua").write_text("#!/usr/bin/env rclua\nlocal t = nil\nreturn t.x\n")
    with pytest.raises(LuaScriptError, match=r"script\.lua:3: attempt to index"):
        state.execute_file(tmp_path / "script.lua")
    (tmp_path / "ok.lua").write_text("#!/usr/bin/env rclua\nreturn 1\n")
    assert state.execute(f"return dofile('{tmp_path / 'ok.lua'}')", "=t") == (1,)


def test_require_errors_name_the_script_line(state):
    with pytest.raises(LuaScriptError) as caught:
        state.execute("local x = 1\nrequire('no.such.module')\n", "@site/req.lua")
    assert caught.value.message.startswith("site/req.lua:2: module 'no.such.module' not found")
    assert caught.value.traceback.startswith(caught.value.message.splitlines()[0])


def test_system_packages_get_their_global_path_when_required(state):
    assert state.execute("return rawget(_G, 'json') == nil, require('json') == json", "=t") == (
        True, True,
    )


def test_hook_tracebacks_show_only_the_script(state):
    state.execute(
        "local m = {}\nfunction m:init()\n  error('init boom')\nend\nmsys.registerModule('m', m)\n",
        "@hooks.lua",
    )
    [result] = state.call_hook("init")
    assert result.value == "hooks.lua:3: init boom"
    assert "prelude.lua" not in result.traceback and "xpcall" not in result.traceback
    assert "hooks.lua:3: in function" in result.traceback
