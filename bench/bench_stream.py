"""response_io streaming: a Lua handler streams a large file (default 200 MiB) over
real HTTP; the client checks every byte and the server's peak RSS growth is reported.

    .venv/bin/python bench/bench_stream.py [--mib 200]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import resource
import sys
import tempfile
import time
from pathlib import Path

from momentum_httpsrv.httpsrv.dispatch import Dispatcher
from momentum_httpsrv.httpsrv.listener import HttpListener
from momentum_httpsrv.httpsrv.lua_binding import LuaHttpsrvBinding
from momentum_httpsrv.lua.runtime import LuaState

SITE = r'''
msys.httpsrv.register("GET", "/file", function(s)
  s:response_io(io.open(s:request_header_get("x-file"), "rb"), 0)
end)
'''
PIECE = 1 << 20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_file(path: Path, mib: int) -> str:
    digest = hashlib.sha256()
    block = hashlib.sha256(b"bench").digest() * (PIECE // 32)
    with path.open("wb") as out:
        for i in range(mib):
            data = bytes([i % 256]) + block[1:]
            digest.update(data)
            out.write(data)
    return digest.hexdigest()


async def fetch(port: int, path: Path) -> tuple[str, int]:
    """GET over HTTP/1.0 (close-delimited body), hashing the body as it arrives."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /file HTTP/1.0\r\nX-File: {path}\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    digest, size = hashlib.sha256(), 0
    while chunk := await reader.read(1 << 18):
        digest.update(chunk)
        size += len(chunk)
    writer.close()
    assert head.startswith(b"HTTP/1.1 200"), head
    return digest.hexdigest(), size


async def main(mib: int) -> int:
    state = LuaState()
    binding = LuaHttpsrvBinding(state)
    state.execute(SITE, "@bench_stream.lua")
    dispatch = Dispatcher(binding.registry, lambda message, tb: print(message, file=sys.stderr))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "stream.bin"
        expected = write_file(path, mib)
        listener = HttpListener("127.0.0.1:0", dispatch)
        await listener.start()
        port = listener.bound_addresses[0][1]
        before = peak_rss_mib()
        started = time.perf_counter()
        digest, size = await fetch(port, path)
        seconds = time.perf_counter() - started
        growth = peak_rss_mib() - before
        await listener.close()
    ok = digest == expected and size == mib * PIECE
    rate = size / PIECE / seconds
    print(f"streamed {size / PIECE:.0f} MiB in {seconds:.2f} s ({rate:.0f} MiB/s);"
          f" checksum {'ok' if ok else 'MISMATCH'}; peak RSS growth {growth:.1f} MiB"
          f" (process peak {peak_rss_mib():.0f} MiB, client and server in one process)")
    return 0 if ok and growth < 50 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=200)
    sys.exit(asyncio.run(main(parser.parse_args().mib)))
