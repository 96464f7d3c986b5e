"""CPU per request of ``serve`` against peer servers, same handler, one interleaved run.

Every server answers ``GET /hello`` with ``200`` ``text/plain`` and the 12-byte body
``hello world\\n`` (ours and nginx's through a Lua handler calling the status, header and
body functions; uvicorn through a raw ASGI callable with no framework):

- nginx + its Lua module, one worker (Debian: ``apt-get install nginx
  libnginx-mod-http-lua``; skipped, with that hint, when absent);
- uvicorn + httptools + uvloop (``pip install uvicorn``; skipped when absent);
- ``momentum-httpsrv serve`` with each HTTP parser, and with ``--workers 2``.

Each server is pinned to one core (``--server-cpu``), ``wrk -t1 -c50`` to another
(``--client-cpu``); rounds go round the servers in turn so that the machine's noise
falls on all of them alike. CPU time is utime+stime of the server's whole process tree
from /proc, before and after each measured run. ``--workers 2`` gets both cores (shared
with wrk, which is then not pinned): its row is for requests/s, not CPU per request.

    python bench/bench_peers.py [--rounds 3] [--seconds 10] [--rss-requests 1000000]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HELLO_SITE = """
require("msys.extended.httpsrv")
local mod = {}
local function hello(session)
  session:response_status_set_std(200, "OK", "text/plain")
  session:response_append("hello world\\n")
  return msys.httpsrv.DONE
end
function mod:rsrc_setup()
  msys.httpsrv.register("GET", "/hello", hello)
  return true
end
msys.registerModule("hello_site", mod)
"""

SITE_CONFIG = """
HTTP_Listener {
  Idle_Time = 300
  Listen "127.0.0.1:%d" {}
}
scriptlet "scriptlet" { script "hello_site" { source = "hello_site" } }
"""

NGINX_MODULES = Path("/usr/lib/nginx/modules")
NGINX_CONFIG = """
load_module %(modules)s/ndk_http_module.so;
load_module %(modules)s/ngx_http_lua_module.so;
worker_processes 1;
daemon off;
master_process on;
pid %(prefix)s/nginx.pid;
error_log %(prefix)s/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 10000000;
    client_body_temp_path %(prefix)s/body;
    proxy_temp_path %(prefix)s/proxy;
    fastcgi_temp_path %(prefix)s/fcgi;
    uwsgi_temp_path %(prefix)s/uwsgi;
    scgi_temp_path %(prefix)s/scgi;
    server {
        listen 127.0.0.1:%(port)d;
        location = /hello {
            content_by_lua_block {
                ngx.status = 200
                ngx.header["Content-Type"] = "text/plain"
                ngx.print("hello world\\n")
            }
        }
    }
}
"""

ASGI_APP = '''
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello world\\n"})
'''

INSTALL_HINT = {
    "nginx+lua": "apt-get install nginx libnginx-mod-http-lua",
    "uvicorn": "pip install uvicorn httptools uvloop",
    "wrk": "apt-get install wrk",
}


@dataclass
class Server:
    """One server under test: how to start it, and what was measured."""

    name: str
    command: list[str]
    cwd: Path
    port: int
    cores: str  # the taskset list it runs on
    cpu_us: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    requests: int = 0
    process: subprocess.Popen | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree_pids(pid: int) -> list[int]:
    """The process and its descendants (nginx's worker, serve's workers)."""
    pids = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if parent == pid:
                pids += tree_pids(int(entry.name))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
        except OSError:
            continue
        total += int(match.group(1)) if match else 0
    return total / 1024


def wait_for_port(server: Server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.process is not None
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited with status {server.process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", server.port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{server.name}: nothing listens on port {server.port}")


def parse_latency(text: str, label: str) -> float:
    match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(port: int, seconds: float, client_cpu: str | None) -> tuple[int, float, str]:
    pin = ["taskset", "-c", client_cpu] if client_cpu else []
    out = subprocess.run(
        [*pin, "wrk", "-t1", "-c50", f"-d{seconds:g}s", "--latency",
         f"http://127.0.0.1:{port}/hello"],
        capture_output=True, text=True, check=True,
    ).stdout
    match = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if match is None or bad:
        raise SystemExit(f"wrk failed on port {port}:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return int(match.group(1)), rate, out


def measure(server: Server, seconds: float, client_cpu: str | None) -> None:
    assert server.process is not None
    run_wrk(server.port, 2, client_cpu)  # warm-up
    pids = tree_pids(server.process.pid)
    before = cpu_seconds(pids)
    count, rate, out = run_wrk(server.port, seconds, client_cpu)
    used = cpu_seconds(pids) - before
    server.requests += count
    server.cpu_us.append(used / count * 1e6)
    server.rates.append(rate)
    server.p50_ms.append(parse_latency(out, "50"))
    server.p99_ms.append(parse_latency(out, "99"))
    server.rss_mb.append(rss_mb(pids))


def rss_over(server: Server, requests: int, client_cpu: str | None) -> list[tuple[int, float]]:
    """RSS of the server's tree (MB) after a warm-up, then after each further wrk run of
    10 s until ``requests`` more were served: (requests so far, MB) points."""
    assert server.process is not None
    pids = tree_pids(server.process.pid)
    run_wrk(server.port, 2, client_cpu)  # warm-up: caches, pools and heaps at their size
    points = [(0, rss_mb(pids))]
    while points[-1][0] < requests:
        count, _, _ = run_wrk(server.port, 10, client_cpu)
        points.append((points[-1][0] + count, rss_mb(pids)))
    return points


@contextmanager
def running(servers: list[Server]) -> Iterator[None]:
    try:
        for server in servers:
            server.process = subprocess.Popen(
                ["taskset", "-c", server.cores, *server.command], cwd=server.cwd,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            wait_for_port(server)
        yield
    finally:
        for server in servers:
            if server.process is not None and server.process.poll() is None:
                server.process.send_signal(signal.SIGTERM)
        for server in servers:
            if server.process is not None:
                try:
                    server.process.wait(15)
                except subprocess.TimeoutExpired:
                    server.process.kill()


def peers(work: Path, server_cpu: str, both_cpus: str) -> tuple[list[Server], list[str]]:
    """The servers that can run here, and a line for each that cannot."""
    servers: list[Server] = []
    missing: list[str] = []
    if shutil.which("nginx") and (NGINX_MODULES / "ngx_http_lua_module.so").exists():
        prefix = work / "nginx"
        prefix.mkdir()
        port = free_port()
        (prefix / "nginx.conf").write_text(
            NGINX_CONFIG % {"modules": NGINX_MODULES, "prefix": prefix, "port": port}
        )
        servers.append(Server("nginx+lua", ["nginx", "-p", str(prefix), "-c",
                                            str(prefix / "nginx.conf")], prefix, port, server_cpu))
    else:
        missing.append(f"nginx+lua: not installed ({INSTALL_HINT['nginx+lua']})")
    try:
        import httptools  # noqa: F401
        import uvicorn  # noqa: F401
        import uvloop  # noqa: F401
    except ImportError:
        missing.append(f"uvicorn: not installed ({INSTALL_HINT['uvicorn']})")
    else:
        (work / "asgi_hello.py").write_text(ASGI_APP)
        port = free_port()
        servers.append(Server(
            "uvicorn+httptools+uvloop (raw ASGI)",
            [sys.executable, "-m", "uvicorn", "asgi_hello:app", "--port", str(port),
             "--http", "httptools", "--loop", "uvloop", "--no-access-log",
             "--log-level", "warning"], work, port, server_cpu,
        ))
    site = work / "site"
    site.mkdir()
    (site / "hello_site.lua").write_text(HELLO_SITE)
    for name, options, cores in (
        ("serve (httptools, default)", [], server_cpu),
        ("serve --http-parser h11", ["--http-parser", "h11"], server_cpu),
        ("serve --workers 2 (both cores)", ["--workers", "2"], both_cpus),
    ):
        port = free_port()
        directory = site / f"port{port}"
        directory.mkdir()
        shutil.copy(site / "hello_site.lua", directory)
        (directory / "ecelerity.conf").write_text(SITE_CONFIG % port)
        servers.append(Server(
            name, [sys.executable, "-m", "momentum_httpsrv.cli", "serve", "-c",
                   "ecelerity.conf", *options], directory, port, cores,
        ))
    return servers, missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--server-cpu", default="1")
    parser.add_argument("--client-cpu", default="0")
    parser.add_argument("--rss-requests", type=int, default=0, metavar="N",
                        help="after the rounds, follow the default serve's RSS over N more "
                             "requests (the README's goal: within ±1 MB over 1,000,000)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit(f"wrk is needed: {INSTALL_HINT['wrk']}")
    both = f"{args.client_cpu},{args.server_cpu}"
    with tempfile.TemporaryDirectory() as tmp:
        servers, missing = peers(Path(tmp), args.server_cpu, both)
        for line in missing:
            print(f"skipped {line}")
        with running(servers):
            rss_start = {s.name: rss_mb(tree_pids(s.process.pid)) for s in servers}  # type: ignore[union-attr]
            for number in range(args.rounds):
                for server in servers:
                    shared = server.cores == both
                    measure(server, args.seconds, None if shared else args.client_cpu)
                print(f"round {number + 1}: " + ", ".join(
                    f"{s.name.split(' ')[0]}{' x2' if s.cores == both else ''} "
                    f"{s.cpu_us[-1]:.1f} us" for s in servers))
            rss_points: list[tuple[int, float]] = []
            if args.rss_requests:
                default = next(s for s in servers if s.name.startswith("serve (httptools"))
                rss_points = rss_over(default, args.rss_requests, args.client_cpu)
    nginx = next((s for s in servers if s.name == "nginx+lua"), None)
    base = statistics.median(nginx.cpu_us) if nginx else None
    print(f"\n{args.rounds} interleaved rounds x {args.seconds:g} s, wrk -t1 -c50; servers on "
          f"CPU {args.server_cpu}, wrk on CPU {args.client_cpu} (the --workers 2 row: "
          f"servers and wrk share CPUs {both}); medians over rounds\n")
    print("| server | CPU µs/request | × nginx | req/s | p50 ms | p99 ms | RSS MB start → end |")
    print("|---|---|---|---|---|---|---|")
    for server in servers:
        cpu = statistics.median(server.cpu_us)
        ratio = f"{cpu / base:.2f}" if base else "n/a"
        print(f"| {server.name} | {cpu:.1f} | {ratio} | {statistics.median(server.rates):,.0f} | "
              f"{statistics.median(server.p50_ms):.2f} | {statistics.median(server.p99_ms):.2f} | "
              f"{rss_start[server.name]:.1f} → {server.rss_mb[-1]:.1f} "
              f"({server.requests:,} requests) |")
    single = next(s for s in servers if s.name.startswith("serve (httptools"))
    double = next(s for s in servers if s.name.startswith("serve --workers 2"))
    print(f"\n--workers 2 / one worker, req/s: "
          f"{statistics.median(double.rates) / statistics.median(single.rates):.2f}")
    if rss_points:
        (_, first), (served, last) = rss_points[0], rss_points[-1]
        print(f"\nserve (httptools) RSS over {served:,} requests after a warm-up: "
              f"{first:.1f} → {last:.1f} MB ({last - first:+.1f} MB); along the way: "
              + ", ".join(f"{n:,}: {mb:.1f}" for n, mb in rss_points))


if __name__ == "__main__":
    main()
