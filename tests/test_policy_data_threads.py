"""The policy-data stores are shared by a node's generations, and a reload runs the next
generation's top level and ``init`` on a worker thread while the loop serves the running
one (docs/generations.md#building-off-the-event-loop): two Lua states on two threads
updating the same counters, gauges and series lose no update."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from momentum_httpsrv.lua.lib.policy_data import AuditSeriesStore, GaugeCacheStore, PolicyData
from momentum_httpsrv.lua.runtime import LuaState

ROUNDS = 500

SETUP = r"""
msys.gauge_cache.define("g", 10, 0)
msys.audit_series.define("s", "string", 3600, 2)
"""

HAMMER = r"""
local c = msys.counter.open("/site/hits")
for _ = 1, ROUNDS do
  msys.counter.inc(c)
  msys.gauge_cache.inc("g", "k")
  msys.audit_series.add("s", { key = "k", count = 1 })
end
""".replace("ROUNDS", str(ROUNDS))


def yielding_clock() -> float:
    """The time, after letting the other thread run (an update reads the clock midway)."""
    time.sleep(0)
    return time.time()


def test_two_threads_updating_the_same_stores_lose_nothing(tmp_path: Path) -> None:
    shared = PolicyData(audit_series=AuditSeriesStore(yielding_clock),
                        gauge_cache=GaugeCacheStore(yielding_clock))
    states = [LuaState([tmp_path], policy_data=shared) for _ in range(2)]
    states[0].execute(SETUP, "=setup")
    failures: list[BaseException] = []

    def hammer(state: LuaState) -> None:
        try:
            state.execute(HAMMER, "=hammer")
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=hammer, args=(state,)) for state in states]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter allows
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        sys.setswitchinterval(interval)
    assert not failures
    assert shared.counter.read("/site/hits") == 2 * ROUNDS
    assert shared.gauge_cache.get("g", "k") == 2 * ROUNDS
    assert shared.audit_series.count("s", "k", 0, 1) == 2 * ROUNDS
