"""``threadpool "NAME" { Concurrency = N }`` stanzas, msys.runInPool on them, and
msys.threadpool.count/find/stat (config/ref-threadpool.md, lua/ref-msys-threadpool-*.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from momentum_httpsrv.config import ConfigValueError
from momentum_httpsrv.node import MomentumNode

POOL_SCRIPT = r"""
local mod = {}
running, most = 0, 0

local function job()
  running = running + 1
  if running > most then most = running end
  msys.sleep(0.02)
  running = running - 1
end

function mod:rsrc_setup()
  if refuse_setup then error("refused on purpose") end
  msys.registerControl("burst", function(cc)
    for i = 1, 6 do msys.runInPool(cc.argv[1], job, true) end
  end)
  msys.registerControl("most", function(cc) print(most) end)
  msys.registerControl("hold", function(cc)
    held = true
    for i = 1, 4 do
      msys.runInPool(cc.argv[1], function() while held do msys.sleep(0.01) end end, true)
    end
  end)
  msys.registerControl("pools", function(cc)
    require("msys.threadpool")
    local id = msys.threadpool.find("LUA_TXT_LOGS")
    print(msys.threadpool.count(), id, msys.threadpool.find(id), msys.threadpool.find("nope"))
    print(msys.threadpool.find(1), msys.threadpool.stat("nope"), msys.threadpool.stat(99))
    local s = msys.threadpool.stat("lua_txt_logs")
    print(s.name, s.num_threads, s.invocations, s.job_num_running, s.queue_sz)
  end)
  msys.registerControl("inside", function(cc)
    print(msys.runInPool("LUA_TXT_LOGS", function()
      local s = msys.threadpool.stat("LUA_TXT_LOGS")
      -- a job calling its own pool runs inline, not waiting for the slot it holds
      local ok, nested = msys.runInPool("LUA_TXT_LOGS", function() return "nested" end)
      return s.job_num_running, nested
    end))
  end)
  return true
end
msys.registerModule("pools", mod)
"""


def start(tmp_path: Path, stanzas: str) -> MomentumNode:
    (tmp_path / "pools.lua").write_text(POOL_SCRIPT)
    config = tmp_path / "ecelerity.conf"
    config.write_text(
        f"{stanzas}\n"
        'scriptlet "scriptlet" { script "pools" { source = "pools" } }\n'
    )
    node = MomentumNode(config)
    node.start()
    return node


@pytest.fixture
def node(tmp_path: Path):
    stanzas = 'threadpool "LUA_TXT_LOGS" { concurrency = 2 }\nThreadPool CPU { Concurrency = 1 }'
    started = start(tmp_path, stanzas)
    yield started
    started.stop()


def test_configured_pool_limits_how_many_jobs_run_at_once(node: MomentumNode) -> None:
    assert node.console("burst LUA_TXT_LOGS") == ""
    assert node.console("most") == "2\n"
    assert "no thread pool" not in node.paniclog.text()


def test_a_stock_pool_takes_its_concurrency_from_its_stanza(node: MomentumNode) -> None:
    node.console("burst CPU")
    assert node.console("most") == "1\n"
    assert node.console("scriptlet eval msys.threadpool.stat('cpu').num_threads") == "1\n"
    assert node.console("scriptlet eval msys.threadpool.stat('IO').num_threads") == "50\n"


def test_msys_threadpool_count_find_stat(node: MomentumNode) -> None:
    node.console("burst LUA_TXT_LOGS")
    assert node.console("pools") == (
        "9\t9\tLUA_TXT_LOGS\tnil\n"  # eight stock pools, then the configured one
        "SwapOut\tnil\tnil\n"
        "LUA_TXT_LOGS\t2\t6\t0\t0\n"
    )


def test_a_job_sees_itself_running_and_may_call_its_own_pool(node: MomentumNode) -> None:
    assert node.console("inside") == "true\t1\tnested\n"


def test_stat_prints_like_threads_stats(node: MomentumNode) -> None:
    node.console("burst LUA_TXT_LOGS")
    shown = node.console("scriptlet eval tostring(msys.threadpool.stat('LUA_TXT_LOGS'))")
    lines = shown.splitlines()
    assert lines[0] == "LUA_TXT_LOGS thread pool: concurrency 2"
    assert lines[1] == "               Total invocations: 6"
    assert lines[2].startswith("    Observed average concurrency: ")
    assert lines[5:7] == ["            Current thread count: 0", "  [inactive threads]"]


def test_negative_concurrency_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigValueError, match="Concurrency must be 0 or more"):
        start(tmp_path, 'threadpool "X" { concurrency = -1 }')


def test_config_set_changes_a_pools_concurrency_at_runtime(node: MomentumNode) -> None:
    assert node.console("config set threadpool LUA_TXT_LOGS concurrency 3") == (
        "Concurrency = 3\n"
    )
    node.console("burst LUA_TXT_LOGS")
    assert node.console("most") == "3\n"
    reply = node.console("config set threadpool LUA_TXT_LOGS concurrency -1")
    assert reply.startswith("Reconfigure failed: ") and "Concurrency must be 0 or more" in reply
    assert node.console("config get threadpool LUA_TXT_LOGS concurrency") == (
        "        Concurrency = 3\n"
    )


def test_the_console_sees_the_concurrency_each_pool_runs_with(node: MomentumNode) -> None:
    """Every stock pool has its stanza, every stanza a Concurrency (Momentum's implicit
    ThreadPool settings), so config eval/set name what the pools do."""
    assert node.console("config eval threadpool IO concurrency") == "        Concurrency = 50\n"
    assert node.console("config get threadpool CPU concurrency") == "        Concurrency = 1\n"
    assert node.console("config set threadpool io concurrency 7") == "Concurrency = 7\n"
    assert node.console("scriptlet eval msys.threadpool.stat('IO').num_threads") == "7\n"


def test_unsetting_a_pools_concurrency_restores_its_default(node: MomentumNode) -> None:
    reply = node.console("config unset threadpool CPU concurrency")
    assert reply.endswith("Effective value is now:\n        Concurrency = 4\n")
    assert node.console("scriptlet eval msys.threadpool.stat('CPU').num_threads") == "4\n"
    reply = node.console("config unset threadpool LUA_TXT_LOGS concurrency")
    assert reply.endswith("Effective value is now:\n        Concurrency = 1\n")
    assert node.console("scriptlet eval msys.threadpool.stat('LUA_TXT_LOGS').num_threads") == (
        "1\n"
    )


def test_a_number_that_is_no_job_class_finds_no_pool(node: MomentumNode) -> None:
    assert node.console("scriptlet eval msys.threadpool.find(0/0), msys.threadpool.find(2.5)") == (
        "nil\tnil\n"
    )
    assert node.console("scriptlet eval msys.threadpool.stat(1/0)") == "nil\n"
    assert node.console("scriptlet eval msys.runInPool(-1/0, function() return 'ran' end)") == (
        "true\tran\n"
    )
    assert "no thread pool named '-inf'; using IO" in node.paniclog.text()


def test_jobs_over_the_limit_are_counted_as_queued(node: MomentumNode) -> None:
    """CPU has one slot here: of four held jobs one runs and three wait, as threads cpu
    queue and msys.threadpool.stat report while they are held."""

    async def while_held() -> tuple[str, str]:
        hold = asyncio.create_task(node.run_console("hold CPU"))
        stat = "scriptlet eval msys.threadpool.stat('CPU').job_num_running, " \
            "msys.threadpool.stat('CPU').job_num_queued, msys.threadpool.stat('CPU').queue_sz"
        counts = ""
        for _ in range(500):  # until the jobs have started (no timing is asserted)
            counts = await node.run_console(stat)
            if counts != "0\t0\t0\n":
                break
            await asyncio.sleep(0.01)
        queue = await node.run_console("threads cpu queue")
        await node.run_console("scriptlet eval held = false")
        await hold
        return counts, queue

    counts, queue = asyncio.run(while_held())
    assert (counts, queue) == ("1\t3\t3\n", "Jobs in the CPU pool\n3 jobs\n")
    assert node.console("threads cpu queue") == "Jobs in the CPU pool\n0 jobs\n"


def test_a_refused_reconfiguration_leaves_the_pools_as_they_were(node: MomentumNode) -> None:
    node.console("scriptlet eval refuse_setup = true")
    reply = node.console("config set threadpool CPU concurrency 3")
    assert reply.startswith("Reconfigure failed: ") and "refused on purpose" in reply
    assert node.console("config get threadpool CPU concurrency") == "        Concurrency = 1\n"
    assert node.console("scriptlet eval msys.threadpool.stat('CPU').num_threads") == "1\n"
