"""Does the loop stay free while handlers wait on DNS, HTTP and SQL?

Serves ``tests/sites/outside`` (GET /check: one msys.dnsLookup against a DNS server on
127.0.0.1, one msys.http.client call to an HTTP server on 127.0.0.1, one SQLite
msys.db.fetch_row; GET /plain answers at once). Each round:

1. times 50 plain GETs with no load (the baseline);
2. fires --concurrent /check requests at once, while a separate process times plain
   GETs one after another for the whole round ("throughout": includes the bursts of
   CPU work when all requests arrive and when all answers come back);
3. once the upstream holds every one of them (all suspended in msys.http.client),
   times 50 plain GETs from here ("held": the loop has nothing else to do unless an
   outbound call blocked it), then lets the upstream answer;
4. checks every /check answer.

Latencies are medians, p95 and max in ms; the ratio compares medians in the same
round. The server runs on core 0 and everything else on core 1 when
``os.sched_setaffinity`` can pin them.

    python bench/bench_outside.py [--rounds 3] [--concurrent 200]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from momentum_httpsrv.testing.local_servers import LocalDnsServer, LocalHttpServer
from momentum_httpsrv.testing.process import serve_process

SITE = Path(__file__).resolve().parent.parent / "tests" / "sites" / "outside"

SAMPLER = """
import http.client, sys, time
port, stop_file = int(sys.argv[1]), sys.argv[2]
connection = http.client.HTTPConnection("127.0.0.1", port)
import os
while not os.path.exists(stop_file):
    started = time.perf_counter()
    connection.request("GET", "/plain")
    body = connection.getresponse().read()
    assert body == b"plain", body
    print(time.perf_counter() - started, flush=True)
    time.sleep(0.005)
"""


def pin(pid: int, core: int) -> None:
    if (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(pid, {core})


def plain_latencies(port: int, count: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        connection.request("GET", "/plain")
        connection.getresponse().read()
        times.append(time.perf_counter() - started)
    connection.close()
    return times


async def fire(port: int, concurrent: int) -> int:
    """Send ``concurrent`` /check requests at once; how many came back right."""
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=120)
    ) as client:

        async def check(i: int) -> bool:
            url = f"http://127.0.0.1:{port}/check?domain=example.com&id={i}"
            async with client.get(url) as response:
                text = await response.text()
            return response.status == 200 and text == f"{i} mx1.example.com /held?id={i} gold"

        return sum(await asyncio.gather(*(check(i) for i in range(concurrent))))


def summary(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return statistics.median(ordered) * 1e3, p95 * 1e3, ordered[-1] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrent", type=int, default=200)
    args = parser.parse_args()

    dns = LocalDnsServer({("example.com", "MX"): ["10 mx1.example.com.", "20 mx2.example.com."]})
    upstream = LocalHttpServer()
    pin(0, 1)
    with tempfile.TemporaryDirectory() as scratch:
        site = Path(scratch) / "outside"
        shutil.copytree(SITE, site)
        (site / "outside_settings.lua").write_text(
            f'return {{ dns_server = "{dns.address}", upstream = "{upstream.url}" }}\n'
        )
        with serve_process(site / "ecelerity.conf") as (server, port):
            pin(server.pid, 0)
            plain_latencies(port, 20)  # warm up
            print(f"{'round':>5} {'correct':>9} | plain GET ms: {'base':>6} {'held':>6} "
                  f"{'held max':>8} | {'thru':>6} {'thru p95':>8} {'thru max':>8} {'n':>4} | "
                  f"{'held/base':>9}")
            for round_number in range(1, args.rounds + 1):
                baseline = plain_latencies(port, 50)
                stop_file = Path(scratch) / f"stop{round_number}"
                sampler = subprocess.Popen(
                    [sys.executable, "-c", SAMPLER, str(port), str(stop_file)],
                    stdout=subprocess.PIPE, text=True,
                )
                pin(sampler.pid, 1)
                time.sleep(0.2)
                upstream.gate.clear()
                upstream.requests.clear()

                async def round_trip() -> tuple[int, list[float]]:
                    load = asyncio.create_task(fire(port, args.concurrent))
                    while len(upstream.requests) < args.concurrent:
                        await asyncio.sleep(0.01)
                    held = await asyncio.to_thread(plain_latencies, port, 50)
                    upstream.gate.set()
                    return await load, held

                correct, held = asyncio.run(round_trip())
                stop_file.touch()
                out, _ = sampler.communicate(timeout=60)
                throughout = [float(line) for line in out.split()]
                base_med, _, _ = summary(baseline)
                held_med, _, held_max = summary(held)
                thru_med, thru_p95, thru_max = summary(throughout)
                print(f"{round_number:>5} {correct:>4}/{args.concurrent:<4} | {'':>13}"
                      f"{base_med:6.2f} {held_med:6.2f} {held_max:8.2f} | {thru_med:6.2f} "
                      f"{thru_p95:8.2f} {thru_max:8.2f} {len(throughout):>4} | "
                      f"{held_med / base_med:9.2f}")
    upstream.close()
    dns.close()


if __name__ == "__main__":
    main()
