"""msys.dnsLookup against a real DNS server on 127.0.0.1 (answers built by dnspython)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from momentum_httpsrv.lua.msys_dns import DnspythonResolver
from momentum_httpsrv.lua.outside import WORLD
from momentum_httpsrv.lua.runtime import LuaScriptError, LuaState
from momentum_httpsrv.testing.local_servers import LocalDnsServer


@pytest.fixture(scope="module")
def dns_server():
    server = LocalDnsServer({
        ("example.com", "A"): ["192.0.2.1", "192.0.2.2"],
        ("example.com", "AAAA"): ["2001:db8::1"],
        ("example.com", "MX"): [
            "20 mx2.example.com.", "10 mx1.example.com.", "30 mx3.example.com."
        ],
        ("example.com", "TXT"): ['"v=spf1 " "ip4:192.0.2.0/24 -all"'],
        ("example.com", "NS"): ["ns1.example.com."],
        ("1.2.0.192.in-addr.arpa", "PTR"): ["host.example.com."],
    })
    server.servfail.add("broken.example")
    server.malformed.add("garbled.example")
    server.silent.add("silent.example")
    yield server
    server.close()


@pytest.fixture
def state():
    return LuaState([])


def lookup(state: LuaState, server: str, call: str) -> tuple:
    """Run ``call`` (Lua using ``S`` as the server option) inside a task, as a handler."""
    chunk = state.compile(f'local S = "{server}"\nlocal a, b = {call}\nreturn a, b', "@dns.lua")
    return asyncio.run(state.run_in_task(chunk))


def as_lists(value: object) -> object:
    if hasattr(value, "values"):
        return [as_lists(item) for item in value.values()]
    return value


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ('msys.dnsLookup("example.com", nil, {server = S})', ["192.0.2.1", "192.0.2.2"]),
        ('msys.dnsLookup("example.com", "a", {server = S})', ["192.0.2.1", "192.0.2.2"]),
        ('msys.dnsLookup("example.com", "AAAA", {server = S})', ["2001:db8::1"]),
        ('msys.dnsLookup("example.com", "txt", {server = S})', ["v=spf1 ip4:192.0.2.0/24 -all"]),
        ('msys.dnsLookup("example.com", "NS", {server = S})', ["ns1.example.com"]),
        ('msys.dnsLookup("1.2.0.192.in-addr.arpa", "ptr", {server = S})', ["host.example.com"]),
        ('msys.dnsLookup("example.com", "mx", {server = S})',
         ["mx1.example.com", "mx2.example.com", "mx3.example.com"]),
        ('msys.dnsLookup("example.com", "MX", {server = S, priority = true})',
         [[10, "mx1.example.com"], [20, "mx2.example.com"], [30, "mx3.example.com"]]),
        ('msys.dnsLookup("example.com", "A", {server = S, priority = true})',
         ["192.0.2.1", "192.0.2.2"]),
    ],
)
def test_record_types_in_either_case_mx_best_first(state, dns_server, call, expected):
    result, failure = lookup(state, dns_server.address, call)
    assert failure is None
    if '"MX"' in call.upper():  # MX best first; other types come as the server answered
        assert as_lists(result) == expected
    else:
        assert sorted(as_lists(result)) == sorted(expected)


@pytest.mark.parametrize(
    ("name", "rtype", "code"),
    [
        ("nowhere.example", "A", "NXDOMAIN"),
        ("example.com", "PTR", "NODATA"),
        ("broken.example", "A", "SERVFAIL"),
    ],
)
def test_failures_are_nil_and_the_code(state, dns_server, name, rtype, code):
    call = f'msys.dnsLookup("{name}", "{rtype}", {{server = S}})'
    assert lookup(state, dns_server.address, call) == (None, code)
    assert (name, rtype) in dns_server.questions


def test_malformed_or_missing_answers_end_in_timeout(state, dns_server):
    """dnspython ignores an answer it cannot parse (as it ignores a spoofed one) and waits
    for a good one; none comes, so the lookup times out — a return value, not an error."""
    with WORLD.replaced(dns=DnspythonResolver(lifetime=0.5)):
        for name in ("garbled.example", "silent.example"):
            call = f'msys.dnsLookup("{name}", "A", {{server = S}})'
            assert lookup(state, dns_server.address, call) == (None, "TIMEOUT")


def test_refused_server_is_servfail(state):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{probe.getsockname()[1]}"
    with WORLD.replaced(dns=DnspythonResolver(lifetime=1.0)):
        result = lookup(state, closed, 'msys.dnsLookup("example.com", "A", {server = S})')
    assert result[0] is None and result[1] in ("SERVFAIL", "TIMEOUT")


def test_invalid_type_is_a_lua_error_at_the_script_line(state, dns_server):
    expected = r"^dns\.lua:2: msys\.dnsLookup: invalid record type 'SRV'"
    with pytest.raises(LuaScriptError, match=expected):
        lookup(state, dns_server.address, 'msys.dnsLookup("example.com", "SRV", {server = S})')


def test_outside_a_task_the_lookup_blocks_and_answers(state, dns_server):
    """Script top level and init cannot suspend: the call runs to its end there."""
    result = state.execute(
        f'return msys.dnsLookup("example.com", "MX", {{server = "{dns_server.address}"}})[1]',
        "=top",
    )
    assert result == ("mx1.example.com",)


def test_concurrent_lookups_suspend_only_their_task(state, dns_server):
    """Twenty lookups of a server that never answers are in flight at once: the loop
    is free (a timer-driven counter runs) while they wait."""
    chunk = state.compile(
        f'return msys.dnsLookup("silent.example", "A", {{server = "{dns_server.address}"}})',
        "@dns.lua",
    )

    async def run() -> tuple[list, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        results = await asyncio.gather(*(state.run_in_task(chunk) for _ in range(20)))
        ticker.cancel()
        return results, ticks

    with WORLD.replaced(dns=DnspythonResolver(lifetime=0.5)):
        results, ticks = asyncio.run(run())
    assert results == [(None, "TIMEOUT")] * 20
    assert ticks >= 5  # the loop kept running during the 0.5 s all twenty waited


def test_answers_are_cached_for_their_ttl_per_server(state):
    server = LocalDnsServer({("cached.example", "A"): ["192.0.2.9"]})
    try:
        with WORLD.replaced(dns=DnspythonResolver()):
            for _ in range(3):
                call = 'msys.dnsLookup("cached.example", "A", {server = S})'
                assert as_lists(lookup(state, server.address, call)[0]) == ["192.0.2.9"]
        assert server.questions == [("cached.example", "A")]
    finally:
        server.close()


def test_a_server_option_that_is_no_address_is_formerr(state):
    assert lookup(state, "not an address", 'msys.dnsLookup("example.com", "A", {server = S})') == (
        None, "FORMERR"
    )


@pytest.mark.parametrize("server", ["127.0.0.1:99999", "127.0.0.1:0", "[::1]:70000"])
def test_a_server_port_out_of_range_is_formerr_without_a_traceback(state, server, caplog):
    """Caught before any packet: no 'Fatal write error' traceback from asyncio, no wait."""
    call = 'msys.dnsLookup("example.com", "A", {server = S})'
    assert lookup(state, server, call) == (None, "FORMERR")
    assert not [record for record in caplog.records if record.exc_info]
