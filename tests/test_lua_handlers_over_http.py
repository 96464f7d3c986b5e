"""Lua handlers over real HTTP (HttpListener on 127.0.0.1, ephemeral port): suspended
handlers do not stall the loop, response_io streams a file, flush switches to chunked."""

import asyncio
import hashlib
import time

import h11
import pytest
from lua_site import LuaSite

from momentum_httpsrv.httpsrv.listener import HttpListener

SITE = r'''
require("msys.extended.httpsrv")
msys.httpsrv.register("GET", "/slow", function(s)
  msys.sleep(1)
  s:response_append("slept")
end)
msys.httpsrv.register("GET", "/fast", function(s) s:response_append("fast") end)
msys.httpsrv.register("GET", "/file", function(s)
  local fh = io.open(s:request_header_get("x-file"), "rb")
  s:response_append("<")
  s:response_io(fh, 0)
  s:response_append(">")
end)
msys.httpsrv.register("GET", "/flush", function(s)
  s:response_append("first,")
  s:response_flush(0)
  msys.sleep(0.01)
  s:response_append("second")
  s:response_flush(1)
  s:response_header_set("X-Codes", "never sent")
  s:response_append("third")
end)
'''


async def fetch(port: int, target: str, headers=(), hasher=None):
    """One GET; returns (status, headers, body, seconds). With ``hasher`` the body is
    hashed as it arrives instead of kept."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    client = h11.Connection(our_role=h11.CLIENT)
    request = h11.Request(method="GET", target=target,
                          headers=[("Host", "t"), ("Connection", "close"), *headers])
    writer.write(client.send(request) + client.send(h11.EndOfMessage()))
    body, response = bytearray(), None
    while True:
        event = client.next_event()
        if event is h11.NEED_DATA:
            client.receive_data(await reader.read(1 << 16))
        elif isinstance(event, h11.Response):
            response = event
        elif isinstance(event, h11.Data):
            hasher.update(event.data) if hasher else body.extend(event.data)
        elif isinstance(event, h11.EndOfMessage):
            break
    writer.close()
    head = {k.decode().lower(): v.decode() for k, v in response.headers}
    return response.status_code, head, bytes(body), time.perf_counter() - started


@pytest.fixture
def serve(tmp_path):
    site = LuaSite(SITE, tmp_path)

    async def run(scenario):
        listener = HttpListener("127.0.0.1:0", site.dispatch)
        await listener.start()
        try:
            return await scenario(listener.bound_addresses[0][1])
        finally:
            await listener.close(grace=1)

    return lambda scenario: asyncio.run(run(scenario))


def test_fifty_sleeping_handlers_do_not_stall_other_requests(serve):
    async def scenario(port):
        started = time.perf_counter()
        slow = [asyncio.create_task(fetch(port, "/slow")) for _ in range(50)]
        await asyncio.sleep(0.2)
        fast = await fetch(port, "/fast")
        results = await asyncio.gather(*slow)
        return fast, results, time.perf_counter() - started

    fast, results, elapsed = serve(scenario)
    assert fast[0] == 200 and fast[2] == b"fast" and fast[3] < 0.1
    assert all(r[0] == 200 and r[2] == b"slept" for r in results)
    assert elapsed < 3


def test_response_io_streams_a_file_with_chunked_framing(serve, tmp_path):
    path = tmp_path / "big.bin"
    piece = hashlib.sha256(b"seed").digest() * 2048  # 64 KiB
    with path.open("wb") as out:
        for i in range(320):  # 20 MiB
            out.write(bytes([i % 256]) + piece[1:])
    expected = hashlib.sha256(b"<" + path.read_bytes() + b">").hexdigest()

    async def scenario(port):
        digest = hashlib.sha256()
        status, head, _, _ = await fetch(port, "/file", [("X-File", str(path))], digest)
        return status, head, digest.hexdigest()

    status, head, digest = serve(scenario)
    assert status == 200 and head["transfer-encoding"] == "chunked"
    assert "content-length" not in head
    assert digest == expected


def test_flush_then_more_output_is_chunked_and_final_locks_output(serve):
    status, head, body, _ = serve(lambda port: fetch(port, "/flush"))
    assert (status, head["transfer-encoding"], body) == (200, "chunked", b"first,second")
    assert "x-codes" not in head


FLOOD_SITE = r'''
flushed, codes = 0, {}
local block = string.rep("x", 1048576)
msys.httpsrv.register("GET", "/flood", function(s)
  for i = 1, 32 do
    s:response_append(block)
    codes[#codes + 1] = s:response_flush(0)
    flushed = i
  end
end)
'''


def test_flush_waits_for_a_client_that_does_not_read(tmp_path):
    """response_flush from a handler suspends it while more than the high-water mark is
    queued for the client, so a non-reading client cannot make the server buffer it all."""
    site = LuaSite(FLOOD_SITE, tmp_path)

    async def scenario():
        listener = HttpListener("127.0.0.1:0", site.dispatch)
        await listener.start()
        port = listener.bound_addresses[0][1]
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /flood HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            await asyncio.sleep(0.5)  # read nothing meanwhile
            stalled_at = site.state.execute("return flushed", "=t")[0]
            backlogs = [s.output_backlog for s in site.binding.sessions.values()]
            received = 0
            while chunk := await reader.read(1 << 20):
                received += len(chunk)
            writer.close()
            return stalled_at, backlogs, received
        finally:
            await listener.close(grace=1)

    stalled_at, backlogs, received = asyncio.run(scenario())
    assert stalled_at < 32 and len(backlogs) == 1
    assert backlogs[0] <= 2 << 20
    assert received > 32 << 20
    assert site.state.execute("return flushed, table.concat(codes, ',')", "=t") == (
        32, ",".join(["0"] * 32))
