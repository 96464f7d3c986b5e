"""``msys.dnsLookup`` (docs/emulation.md#the-outside-world): the real resolver
(dnspython's asynchronous one) and the service a suspended Lua task is answered by.

Error codes: ``NXDOMAIN`` and ``SERVFAIL`` are what Momentum documents and scripts
compare with; the others follow the same rule, the DNS response code's mnemonic
(``REFUSED``, ``FORMERR``, ``NOTIMP``), plus ``NODATA`` (the name exists, no record of
that type) and ``TIMEOUT`` (no answer in time). An answer that cannot be parsed is a
``SERVFAIL``, as a recursive resolver reports a bogus upstream answer.
"""

from __future__ import annotations

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.resolver

from .outside import WORLD, DnsFailure, DnsRecord

RECORD_TYPES = ("A", "AAAA", "TXT", "MX", "PTR", "NS")


def parse_server(server: str) -> tuple[str, int]:
    """``options.server``: ``1.2.3.4``, ``1.2.3.4:5353``, ``::1`` or ``[::1]:5353``;
    ValueError for a port no packet can go to."""
    host, port = server, 53
    if server.startswith("["):
        host, _, rest = server[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else 53
    elif server.count(":") == 1:
        host, _, port_text = server.partition(":")
        port = int(port_text)
    if not 0 < port < 65536:
        raise ValueError(f"port {port} out of range")
    return host, port


def _record(rdata: object, rdtype: str) -> DnsRecord:
    if rdtype in ("A", "AAAA"):
        return DnsRecord(rdata.address)  # type: ignore[attr-defined]
    if rdtype == "TXT":  # the character-strings joined, bytes kept (Lua strings are bytes)
        return DnsRecord(b"".join(rdata.strings).decode("latin-1"))  # type: ignore[attr-defined]
    if rdtype == "MX":
        return DnsRecord(
            rdata.exchange.to_text(omit_final_dot=True),  # type: ignore[attr-defined]
            int(rdata.preference),  # type: ignore[attr-defined]
        )
    return DnsRecord(rdata.target.to_text(omit_final_dot=True))  # type: ignore[attr-defined]


def _failure_code(error: dns.resolver.NoNameservers) -> str:
    """The response code the servers gave, SERVFAIL when none gave a usable one."""
    for *_, answer in reversed(error.kwargs.get("errors", [])):
        if isinstance(answer, dns.message.Message):
            return dns.rcode.to_text(answer.rcode())
        if isinstance(answer, str) and answer in dns.rcode.Rcode.__members__:
            return answer
    return "SERVFAIL"


class DnspythonResolver:
    """The host's resolver (``/etc/resolv.conf``), or ``options.server`` when given; one
    resolver per server, each with its own cache of answers for their TTL (Momentum's
    resolver caches too: its ``dns_cache`` console command shows script lookups)."""

    def __init__(self, lifetime: float = 5.0) -> None:
        self.lifetime = lifetime
        self._resolvers: dict[str | None, dns.asyncresolver.Resolver] = {}

    def _resolver(self, server: str | None) -> dns.asyncresolver.Resolver:
        resolver = self._resolvers.get(server)
        if resolver is None:
            if server is None:
                resolver = dns.asyncresolver.Resolver()
            else:
                host, port = parse_server(server)
                resolver = dns.asyncresolver.Resolver(configure=False)
                resolver.nameservers = [host]
                resolver.port = port
            resolver.cache = dns.resolver.LRUCache(max_size=10_000)
            self._resolvers[server] = resolver
        return resolver

    async def lookup(self, name: str, rdtype: str, server: str | None) -> list[DnsRecord]:
        try:
            resolver = self._resolver(server)
        except ValueError as error:  # an options.server that is no address
            raise DnsFailure("FORMERR") from error
        except dns.exception.DNSException as error:  # no usable /etc/resolv.conf
            raise DnsFailure("SERVFAIL") from error
        try:
            answer = await resolver.resolve(
                name, rdtype, lifetime=self.lifetime, search=False, raise_on_no_answer=True
            )
        except dns.resolver.NXDOMAIN as error:
            raise DnsFailure("NXDOMAIN") from error
        except dns.resolver.NoAnswer as error:
            raise DnsFailure("NODATA") from error
        except dns.resolver.NoNameservers as error:
            raise DnsFailure(_failure_code(error)) from error
        except dns.exception.Timeout as error:
            raise DnsFailure("TIMEOUT") from error
        except (dns.name.NameTooLong, dns.name.LabelTooLong, dns.name.EmptyLabel) as error:
            raise DnsFailure("FORMERR") from error
        except dns.exception.DNSException as error:
            raise DnsFailure("SERVFAIL") from error
        return [_record(rdata, rdtype) for rdata in answer]


def best_first(records: list[DnsRecord]) -> list[DnsRecord]:
    """Preference-bearing records by preference (stable); others as answered."""
    if any(record.preference is not None for record in records):
        return sorted(records, key=lambda record: record.preference or 0)
    return records


async def dns_lookup_service(name: str, rdtype: str, server: str | None) -> tuple:
    """``true, value1, pref1, value2, pref2, …`` (pref nil when the type has none), or
    ``false, code``: plain values only, the Lua side builds the tables."""
    try:
        records = best_first(await WORLD.dns.lookup(str(name), str(rdtype), server))
    except DnsFailure as failure:
        return False, failure.code
    flat: list[object] = [True]
    for record in records:
        flat += [record.value, record.preference]
    return tuple(flat)


WORLD.real_dns = DnspythonResolver  # the resolver WORLD makes when no fake is in place
