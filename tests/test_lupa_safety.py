"""lupa binds a Lua object to the lua_State (coroutine) it was created in, and a host
function running inside a coroutine must not call into the main state. These tests pin
the rule of runtime.py: Python keeps ids, Lua keeps the objects.

Crash scenarios run in a child interpreter, so a segfault fails one test, not the run."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from lua_site import LuaSite

from momentum_httpsrv.httpsrv import lua_binding
from momentum_httpsrv.httpsrv.responses import CollectingSink

TESTS_DIR = Path(__file__).resolve().parent


def run_isolated(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=TESTS_DIR, capture_output=True, text=True, timeout=60,
    )


class YieldingSink(CollectingSink):
    """A sink whose drain lets other requests run, as a socket's does."""

    async def drain(self) -> None:
        await asyncio.sleep(0)


STREAMING_SITE = """
local path = ...
msys.httpsrv.register("GET", "/big", function(s) s:response_io(io.open(path, "rb"), 0) end)
msys.httpsrv.register("GET", "/gc", function(s)
  collectgarbage("collect")
  local threads = {}
  for i = 1, 50 do threads[i] = coroutine.create(function() end) end
  s:response_append("gc")
end)
"""


def test_streamed_file_outlives_its_handler_coroutine(tmp_path: Path) -> None:
    """The reader is created in the handler's coroutine and read after it ended, while
    other requests make the collector run (review repro A: exit 139)."""
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 4096)  # 1 MiB: 16 chunks
    result = run_isolated(f"""
        import asyncio
        from pathlib import Path
        from lua_site import LuaSite
        from test_lupa_safety import STREAMING_SITE, YieldingSink
        from momentum_httpsrv.httpsrv.requests import Request

        site = LuaSite("", Path({str(tmp_path)!r}))
        site.state.execute(STREAMING_SITE, "@site.lua", {str(big)!r})

        async def one(target):
            sink = YieldingSink()
            await site.dispatch(Request("GET", target, "1.1", [], b""), sink)
            return sink.response.body

        async def main():
            for _ in range(5):
                bodies = await asyncio.gather(one("/big"), *(one("/gc") for _ in range(20)))
                assert bodies[0] == Path({str(big)!r}).read_bytes(), len(bodies[0])
        asyncio.run(main())
        print("ok")
    """)
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr[-2000:]


def test_fire_and_forget_job_from_a_finished_coroutine() -> None:
    """runInPool(fn, true) from a handler: fn is created in the handler's coroutine and
    run after it (review repro B)."""
    result = run_isolated("""
        import asyncio
        from pathlib import Path
        from lua_site import LuaSite

        site = LuaSite('''
        done = 0
        msys.httpsrv.register("GET", "/spawn", function(s)
          msys.runInPool("IO", function() done = done + 1 end, true)
          msys.runInPool("IO", function() end, function() done = done + 1 end)
        end)
        msys.httpsrv.register("GET", "/gc", function(s)
          collectgarbage("collect")
          local threads = {}
          for i = 1, 50 do threads[i] = coroutine.create(function() end) end
        end)
        ''', Path("."))

        async def main():
            for _ in range(20):
                await asyncio.gather(*(site.arequest("GET", p) for p in ("/spawn", "/gc") * 5))
        asyncio.run(main())
        print(site.state.execute("return done", "=t")[0])
    """)
    assert (result.returncode, result.stdout.strip()) == (0, "200"), result.stderr[-2000:]


def test_register_from_inside_a_handler(tmp_path: Path) -> None:
    """A handler (a coroutine) registering an endpoint (review defect 2: 500, 'tuple'
    object is not callable)."""
    site = LuaSite("""
    msys.httpsrv.register("GET", "/add", function(s)
      local rc = msys.httpsrv.register("GET", "/added", function(t)
        t:response_append(t:service_ctx_get().word)
      end, { word = "late" })
      s:response_append(tostring(rc))
    end)
    """, tmp_path)
    assert site.request("GET", "/add").body == b"0"
    assert site.request("GET", "/added").body == b"late"
    assert site.log == []


def test_streamed_file_is_closed_when_sent(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_bytes(b"payload")
    site = LuaSite(f"""
    msys.httpsrv.register("GET", "/f", function(s)
      handle = io.open({str(tmp_path / "f.txt")!r}, "rb")
      s:response_io(handle, 0)
    end)
    """, tmp_path)
    assert site.request("GET", "/f").body == b"payload"
    assert site.state.execute("return io.type(handle)", "=t") == ("closed file",)


@pytest.mark.parametrize(
    ("returned", "warning"),
    [
        ("nil", None),
        ("msys.httpsrv.DONE", None),
        ("1", "httpsrv: handler for GET /r returned 1; taken as DONE"),
        ("'later'", "httpsrv: handler for GET /r returned later; taken as DONE"),
        ("{}", "httpsrv: handler for GET /r returned a table; taken as DONE"),
    ],
)
def test_non_done_return_value_is_warned(tmp_path: Path, returned: str, warning) -> None:
    site = LuaSite(f"""
    msys.httpsrv.register("GET", "/r", function(s)
      s:response_append("body")
      return {returned}
    end)
    """, tmp_path)
    response = site.request("GET", "/r")
    assert (response.status, response.body) == (200, b"body")
    assert site.log == ([warning] if warning else [])


def test_thousands_of_query_attributes(tmp_path: Path) -> None:
    site = LuaSite("""
    msys.httpsrv.register("GET", "/q", function(s)
      local attrs, n, last = s:request_url_get().attrs, 0, nil
      local iter = msys.core.dict_iter2(attrs)
      while true do
        local rc, key, value = msys.core.dict_next(attrs, iter)
        if rc == 0 then break end
        n = n + 1
        if key == "k4999" then last = value end
      end
      s:response_append(n .. " " .. tostring(last))
    end)
    """, tmp_path)
    query = "&".join(f"k{i}=v{i}" for i in range(5000))
    response = site.request("GET", "/q?" + query)
    assert (response.status, response.body) == (200, b"5000 v4999"), site.log


def handler_slots(site: LuaSite) -> int:
    return site.binding.registered_handlers()


def test_replaced_registries_release_their_handlers(tmp_path: Path) -> None:
    """Each config set re-runs rsrc_setup into a fresh registry; the handlers of the
    registries nobody uses any more are dropped from Lua."""
    site = LuaSite("""
    function setup()
      for i = 1, 10 do
        msys.httpsrv.register("GET", "/p" .. i, function(s) s:response_append(i) end)
      end
    end
    setup()
    """, tmp_path)
    for _ in range(30):
        site.binding.registry = type(site.binding.registry)()
        site.state.execute("setup()", "=t")
        site.dispatch.registry = site.binding.registry
    assert site.request("GET", "/p7").body == b"7"
    assert handler_slots(site) <= 20


def test_binding_exports_only_its_own_names() -> None:
    assert "as_tuple" not in lua_binding.__all__
    assert all(hasattr(lua_binding, name) for name in lua_binding.__all__)

