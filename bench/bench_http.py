"""Throughput, CPU per request and memory of ``momentum-httpsrv serve`` under load.

Starts the server on an ephemeral loopback port with a one-endpoint site, loads it with
wrk (50 connections; ``apt-get install wrk``) or, without wrk, a built-in asyncio
keep-alive client, and reads the server's CPU time and RSS from /proc before and after
at least --requests requests.

    python bench/bench_http.py [--requests 200000] [--connections 50] [--http-parser h11]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SITE = """
require("msys.extended.httpsrv")
local mod = {}
local function status(session)
  local url = session:request_url_get()
  session:response_status_set_std(200, "OK", "text/plain")
  session:response_append("ok " .. url.path .. "\\n")
end
function mod:rsrc_setup()
  msys.httpsrv.register("GET", "/status", status)
  return true
end
msys.registerModule("bench_site", mod)
"""

CONFIG = """
HTTP_Listener { Listen "127.0.0.1:0" {} }
scriptlet "scriptlet" { script "bench_site" { source = "bench_site" } }
"""


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float:
    match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else float("nan")


def start_server(directory: Path, http_parser: str) -> tuple[subprocess.Popen, int]:
    (directory / "bench_site.lua").write_text(SITE)
    (directory / "ecelerity.conf").write_text(CONFIG)
    command = [sys.executable, "-m", "momentum_httpsrv.cli", "serve", "-c",
               str(directory / "ecelerity.conf"), "--http-parser", http_parser]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = server.stderr.readline()
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if match:
            return server, int(match.group(1))
        if not line and server.poll() is not None:
            break
    server.kill()
    raise SystemExit("the server did not start")


def run_wrk(port: int, connections: int, seconds: int) -> tuple[int, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", f"http://127.0.0.1:{port}/status"],
        capture_output=True, text=True, check=True,
    ).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors or "Socket errors" in out:
        print(out)
    return total, float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


async def python_load(port: int, connections: int, count: int) -> int:
    request = b"GET /status HTTP/1.1\r\nHost: bench\r\n\r\n"
    per_connection = count // connections
    done = 0

    async def one_connection() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(per_connection):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
            await reader.readexactly(length)
            done += 1
        writer.close()

    await asyncio.gather(*(one_connection() for _ in range(connections)))
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--http-parser", choices=["httptools", "h11"], default="httptools")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server, port = start_server(Path(tmp), args.http_parser)
        try:
            use_wrk = shutil.which("wrk") is not None
            if use_wrk:
                run_wrk(port, args.connections, 2)  # warm-up
            else:
                asyncio.run(python_load(port, args.connections, 5_000))
            rss_before, cpu_before = proc_rss_mb(server.pid), proc_cpu_seconds(server.pid)
            started, total, rates = time.monotonic(), 0, []
            while total < args.requests:
                if use_wrk:
                    count, rate = run_wrk(port, args.connections, 10)
                    rates.append(rate)
                else:
                    count = asyncio.run(python_load(port, args.connections, args.requests))
                total += count
            elapsed = time.monotonic() - started
            cpu = proc_cpu_seconds(server.pid) - cpu_before
            rss_after = proc_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(10)
    print(f"load generator      {'wrk -t2' if use_wrk else 'python asyncio'}, "
          f"{args.connections} connections, GET /status (Lua handler), "
          f"{args.http_parser} parser")
    print(f"requests            {total}")
    print(f"requests/s          {total / elapsed:,.0f}"
          + (f" (wrk runs: {', '.join(f'{r:,.0f}' for r in rates)})" if rates else ""))
    print(f"server CPU/request  {cpu / total * 1e6:.1f} us")
    print(f"server RSS          {rss_before:.1f} MB before, {rss_after:.1f} MB after "
          f"({rss_after - rss_before:+.1f} MB)")


if __name__ == "__main__":
    main()
