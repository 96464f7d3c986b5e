"""Which ``HTTP_Listener`` scopes decide an option for one connection
(docs/request-lifecycle.md#option-resolution).

The first scope that sets the option wins, in this order: the most specific ``Peer`` inside
the matched ``Listen`` that contains the client IP, the most specific ``Peer`` directly in
``HTTP_Listener``, the ``Listen``, the ``HTTP_Listener``; then the caller's default.
Resolution depends only on (Listen address, peer IP), so a generation caches it per pair,
keeping the most recently seen pairs only: every distinct client IP is a new pair.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..config import ConfigOption, ConfigScope, ConfigValue

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class EffectiveScopes:
    """The scopes that apply to one connection, most specific first. Answers are kept: a
    generation's tree does not change under it (``config set`` builds a new generation,
    with new EffectiveScopes), and every request asks the same few options."""

    scopes: tuple[ConfigScope, ...]
    _found: dict[str, ConfigOption | None] = field(default_factory=dict, compare=False)

    def option(self, name: str) -> ConfigOption | None:
        if name not in self._found:
            self._found[name] = next(
                (found for scope in self.scopes if (found := scope.option(name)) is not None),
                None,
            )
        return self._found[name]

    def get_bool(self, name: str, default: bool) -> bool:
        found = self.option(name)
        return default if found is None else found.as_bool()

    def get_params(self, name: str) -> dict[str, ConfigValue] | None:
        found = self.option(name)
        return None if found is None else found.as_params()


def peer_network(name: str | None) -> IpNetwork | None:
    """``Peer "10.0.0.0/16"``, ``"10.0.0.1"``, ``"[2001:db8::]/32"`` → a network; None if
    the name is no address (brackets around IPv6 are optional in Peer;
    docs/request-lifecycle.md#listen-addresses)."""
    if not name:
        return None
    address, slash, prefix = name.strip().partition("/")
    address = address.strip().removeprefix("[").removesuffix("]")
    try:
        return ipaddress.ip_network(f"{address}{slash}{prefix}", strict=False)
    except ValueError:
        return None


def client_address(ip: str | None) -> IpAddress | None:
    """The peer IP as Peer scopes see it: an IPv4-mapped IPv6 address counts as IPv4."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def most_specific_peer(
    scope: ConfigScope, address: IpAddress | None, warn: Callable[[str], None]
) -> ConfigScope | None:
    """The ``Peer`` child of ``scope`` with the longest prefix containing ``address``."""
    best: tuple[int, ConfigScope] | None = None
    for peer in scope.scopes("Peer"):
        network = peer_network(peer.name)
        if network is None:
            warn(f"httpsrv: {peer.header} in {scope.header} is not an address or CIDR; ignored")
            continue
        if address is None or network.version != address.version or address not in network:
            continue
        if best is None or network.prefixlen > best[0]:
            best = (network.prefixlen, peer)
    return None if best is None else best[1]


def find_listen(root: ConfigScope, listener: str) -> tuple[ConfigScope, ConfigScope | None] | None:
    """The ``HTTP_Listener`` and ``Listen`` scope a connection arrived on. A connection on
    no configured Listen (offline calls) gets the first HTTP_Listener alone; None when the
    configuration has no HTTP_Listener."""
    http_listeners = root.scopes("HTTP_Listener")
    for http_listener in http_listeners:
        listen = http_listener.child("Listen", listener)
        if listen is not None:
            return http_listener, listen
    return (http_listeners[0], None) if http_listeners else None


def access_scopes(root: ConfigScope) -> Iterator[ConfigScope]:
    """Every scope that can decide an access option: each ``HTTP_Listener``, its ``Listen``
    scopes and the ``Peer`` scopes directly in either."""
    for http_listener in root.scopes("HTTP_Listener"):
        yield http_listener
        yield from http_listener.scopes("Peer")
        for listen in http_listener.scopes("Listen"):
            yield listen
            yield from listen.scopes("Peer")


def effective_scopes(
    root: ConfigScope,
    listener: str,
    peer_ip: str | None,
    warn: Callable[[str], None] = lambda message: None,
) -> EffectiveScopes:
    """The precedence chain for a connection on Listen ``listener`` from ``peer_ip``
    (docs/request-lifecycle.md#option-resolution)."""
    found = find_listen(root, listener)
    if found is None:
        return EffectiveScopes(())
    http_listener, listen = found
    address = client_address(peer_ip)
    chain = [
        listen and most_specific_peer(listen, address, warn),
        most_specific_peer(http_listener, address, warn),
        listen,
        http_listener,
    ]
    return EffectiveScopes(tuple(scope for scope in chain if scope is not None))


class ScopeResolver:
    """``effective_scopes`` cached per (listener, peer IP) for one configuration generation;
    the least recently used pair is dropped beyond ``max_entries``, so a stream of new
    client addresses cannot grow memory without bound."""

    def __init__(
        self,
        root: ConfigScope,
        warn: Callable[[str], None] | None = None,
        max_entries: int = 4096,
    ) -> None:
        self._root = root
        self._warn = warn or (lambda message: None)
        self._max_entries = max_entries
        self._cache: OrderedDict[tuple[str, str | None], EffectiveScopes] = OrderedDict()

    def __len__(self) -> int:
        """How many (listener, peer IP) answers are kept."""
        return len(self._cache)

    def resolve(self, listener: str, peer_ip: str | None) -> EffectiveScopes:
        key = (listener, peer_ip)
        scopes = self._cache.get(key)
        if scopes is not None:
            self._cache.move_to_end(key)
            return scopes
        scopes = self._cache[key] = effective_scopes(self._root, listener, peer_ip, self._warn)
        if len(self._cache) > self._max_entries:
            self._cache.popitem(last=False)
        return scopes
