"""One endpoint that does a DNS lookup, an outbound HTTP call and an SQL query: served
for real under concurrent load, and tested offline with the three fakes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp

from momentum_httpsrv.testing.client import MomentumTestClient
from momentum_httpsrv.testing.fakes import FakeDns, FakeHttp
from momentum_httpsrv.testing.local_servers import LocalDnsServer, LocalHttpServer
from momentum_httpsrv.testing.process import serve_process

CONCURRENT = 200


def write_settings(site: Path, dns_server: str, upstream: str) -> Path:
    (site / "outside_settings.lua").write_text(
        f'return {{ dns_server = "{dns_server}", upstream = "{upstream}" }}\n'
    )
    return site / "ecelerity.conf"


def wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def test_served_under_load_every_request_is_answered_and_the_loop_stays_free(site_dir):
    """200 requests are all suspended in their outbound HTTP call at once (the upstream
    holds every one until the test lets go); while they wait, a plain GET is answered —
    a blocked loop could not answer it. Then all 200 finish, each with its own answer."""
    dns = LocalDnsServer({("example.com", "MX"): ["20 mx2.example.com.", "10 mx1.example.com."]})
    upstream = LocalHttpServer()
    config = write_settings(site_dir("outside"), dns.address, upstream.url)
    try:
        with serve_process(config) as (_, port):
            base = f"http://127.0.0.1:{port}"

            async def load() -> tuple[list[tuple[int, str]], tuple[int, str]]:
                async with aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=0),
                    timeout=aiohttp.ClientTimeout(total=120),
                ) as client:

                    async def get(target: str) -> tuple[int, str]:
                        async with client.get(base + target) as response:
                            return response.status, await response.text()

                    calls = [
                        asyncio.create_task(get(f"/check?domain=example.com&id={i}"))
                        for i in range(CONCURRENT)
                    ]
                    await asyncio.to_thread(
                        wait_for, lambda: len(upstream.requests) >= CONCURRENT
                    )
                    plain = await asyncio.wait_for(get("/plain"), 30)
                    upstream.gate.set()
                    return await asyncio.gather(*calls), plain

            responses, plain = asyncio.run(load())
    finally:
        upstream.gate.set()
        upstream.close()
        dns.close()
    assert plain == (200, "plain")
    assert responses == [
        (200, f"{i} mx1.example.com /held?id={i} gold") for i in range(CONCURRENT)
    ]
    assert dns.questions  # asked for real (answers are then cached for their TTL)


def test_the_same_endpoint_offline_with_the_fakes(
    momentum_dns: FakeDns, momentum_http: FakeHttp, momentum_clock, momentum_site
):
    """As README shows it: the site as committed (its settings name the fakes' hosts)."""
    config = Path(__file__).parent / "sites" / "outside" / "ecelerity.conf"
    momentum_dns.add("example.com", "MX", "20 mx2.example.com", "10 mx1.example.com")
    momentum_http.add("GET", "http://upstream.test/held?id=7", body='{ "path": "/held?id=7" }')
    site = momentum_site(config)

    response = site.get("/check?domain=example.com&id=7")
    assert (response.status, response.text) == (200, "7 mx1.example.com /held?id=7 gold")
    assert momentum_dns.questions == [("example.com", "MX", "192.0.2.53")]
    assert [(r.method, r.url) for r in momentum_http.requests] == [
        ("GET", "http://upstream.test/held?id=7")
    ]

    assert site.get("/check?domain=nowhere.example&id=8").status == 502  # NXDOMAIN
    response = site.get("/check?domain=example.com&id=9")  # not registered: refused
    assert (response.status, response.reason) == (502, "HTTP Couldn't connect to server")
    assert momentum_http.refused[-1].url == "http://upstream.test/held?id=9"


def test_fakes_work_for_the_test_client_outside_pytest_fixtures(site_dir):
    config = write_settings(site_dir("outside"), "192.0.2.53", "http://upstream.test")
    with FakeDns() as dns, FakeHttp() as http, MomentumTestClient(config) as client:
        dns.add("example.org", "MX", (5, "mx.example.org"))
        http.add("GET", "http://upstream.test/held?id=1", body='{ "path": "p" }')
        assert client.get("/check?domain=example.org&id=1").text == "1 mx.example.org p silver"
