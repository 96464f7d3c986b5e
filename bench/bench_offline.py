"""Cost of one request through the in-process pipeline (no sockets): MomentumNode.handle
with the same one-endpoint Lua site as bench_http.py. Isolates the dispatcher, session
and Lua binding from the HTTP parser and the network. Reports the process's CPU time per
request (less disturbed by other load on a shared machine than wall-clock time).

    python bench/bench_offline.py [--requests 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bench_http import CONFIG, SITE

from momentum_httpsrv.httpsrv.requests import ConnectionInfo, Request
from momentum_httpsrv.node import MomentumNode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "bench_site.lua").write_text(SITE)
        (directory / "ecelerity.conf").write_text(CONFIG)
        node = MomentumNode(directory / "ecelerity.conf")
        node.start()
        connection = ConnectionInfo(1, "127.0.0.1:0", ("127.0.0.1", 5555), ("127.0.0.1", 80))
        request = Request("GET", "/status", "1.1", [("Host", "bench")], b"", connection)

        async def run(count: int) -> None:
            for _ in range(count):
                await node.handle(request)

        asyncio.run(run(2_000))  # warm-up
        per_request = []
        for _ in range(5):
            started = time.process_time()
            asyncio.run(run(args.requests))
            per_request.append((time.process_time() - started) / args.requests * 1e6)
        node.stop()
    print(f"offline GET /status: median {statistics.median(per_request):.1f} us, "
          f"best {min(per_request):.1f} us CPU per request ({args.requests} requests x 5)")


if __name__ == "__main__":
    main()
