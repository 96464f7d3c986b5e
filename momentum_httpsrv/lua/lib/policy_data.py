"""The data Momentum policy scripts keep in the engine rather than in Lua:
``msys.cidr`` (named CIDR databases), ``msys.audit_series`` (windowed counters),
``msys.gauge_cache`` (TTL-bounded gauges) and ``msys.counter`` (named counters).

A node keeps one set of stores (``PolicyData``) across reloads; a Lua state without a
node gets its own. Lua passes and receives plain strings, numbers and tables only;
the Lua halves (``policy_data.lua``) check arguments and shape errors.
"""

from __future__ import annotations

import ipaddress
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from lupa import lua51

from momentum_httpsrv.lua.lib._source import run_library_chunk

T = TypeVar("T")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# A CIDR entry's value: a string, True (a datasource CIDR without a value column), or
# None (an rbldnsd exclusion, which answers the default).
CidrValue = str | bool | None
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class PolicyDataError(ValueError):
    """A call the engine would refuse; the message is the Lua error's."""


def defined(store: dict[str, T], name: str, what: str) -> T:
    """The ``what`` named ``name``, which a script must have defined first."""
    found = store.get(name)
    if found is None:
        raise PolicyDataError(f"no {what} named '{name}' (define it first, in init)")
    return found


def parse_address(text: str) -> Address:
    """An IP address as scripts give it: bare, ``[v6]``, or with a ``:port`` /
    ``[v6]:port`` suffix (an accept_construct's remote address)."""
    text = text.strip()
    bracketed = re.fullmatch(r"\[([^\]]+)\](?::\d+)?", text)
    if bracketed:
        text = bracketed.group(1)
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise PolicyDataError(f"'{text}' is not an IP address") from None


def parse_network(text: str) -> Network:
    """``a.b.c.d[/n]``, a partial IPv4 prefix (``10.79`` is 10.79.0.0/16, as rbldnsd
    reads it), or an IPv6 network."""
    text = text.strip()
    address, slash, bits = text.partition("/")
    if ":" not in address and address.count(".") < 3 and not slash:
        octets = [part for part in address.split(".") if part]
        address = ".".join(octets + ["0"] * (4 - len(octets)))
        bits, slash = str(8 * len(octets)), "/"
    try:
        return ipaddress.ip_network(address + slash + bits, strict=False)
    except ValueError:
        raise PolicyDataError(f"'{text}' is not an IP network") from None


# -- msys.cidr -------------------------------------------------------------------------


@dataclass
class CidrTable:
    """Longest-prefix lookup: per IP version, prefix length → network number → value
    (None marks an rbldnsd exclusion, which answers the default)."""

    by_length: dict[int, dict[int, dict[int, CidrValue]]] = field(default_factory=dict)

    def add(self, network: Network, value: CidrValue) -> None:
        lengths = self.by_length.setdefault(network.version, {})
        lengths.setdefault(network.prefixlen, {})[int(network.network_address)] = value

    def lookup(self, address: Address) -> tuple[bool, CidrValue]:
        """(found, value) for the most specific network holding ``address``."""
        lengths = self.by_length.get(address.version, {})
        width = address.max_prefixlen
        number = int(address)
        for length in sorted(lengths, reverse=True):
            key = number >> (width - length) << (width - length) if length else 0
            entries = lengths[length]
            if key in entries:
                return True, entries[key]
        return False, None


_RBL_V4_LINE = re.compile(
    r"^(?P<exclude>!)?\s*(?P<net>[0-9.]+(?:/\d+)?(?:-[0-9.]+)?)(?:\s*:(?P<value>.*)|\s+.*)?$"
)
_RBL_V6_LINE = re.compile(
    r"^(?P<exclude>!)?\s*(?P<net>[0-9A-Fa-f:.]+(?:/\d+)?)(?:\s+:(?P<value>.*)|\s*)$"
)
DEFAULT_RBL_A = "127.0.0.2"


def read_rbldnsd(text: str, value_kind: str) -> CidrTable:
    """An rbldnsd ip4set/ip6 file: ``addr[/len] :A:TXT`` entries (IPv6 needs a space
    before its colon), ``!addr`` exclusions, a ``:A:TXT`` line setting the defaults for
    the lines after it, ``#`` comments and ``$`` directives."""
    table = CidrTable()
    default_a, default_txt = DEFAULT_RBL_A, ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", "$")):
            continue
        if line.startswith(":"):
            default_a, _, default_txt = line[1:].partition(":")
            default_a = default_a or DEFAULT_RBL_A
            continue
        pattern = _RBL_V6_LINE if line.split(" :", 1)[0].count(":") > 1 else _RBL_V4_LINE
        match = pattern.match(line)
        if match is None:
            raise PolicyDataError(f"line {number}: cannot read '{raw}'")
        a, _, txt = (match.group("value") or "").partition(":")
        value = None
        if not match.group("exclude"):
            value = (txt or default_txt) if value_kind == "txt" else (a or default_a)
        for network in _networks(match.group("net"), number):
            table.add(network, value)
    return table


def _networks(text: str, line: int) -> list[Network]:
    try:
        if "-" in text:
            first, last = (ipaddress.ip_address(part) for part in text.split("-", 1))
            return list(ipaddress.summarize_address_range(first, last))
        return [parse_network(text)]
    except (ValueError, TypeError):
        raise PolicyDataError(f"line {line}: '{text}' is not an address or network") from None


DEFAULT_CIDR_REFRESH = 1800.0


@dataclass
class Cidr:
    kind: str
    interpolate: bool
    value_kind: str
    source: str | None
    table: CidrTable
    refresh: float = DEFAULT_CIDR_REFRESH  # seconds; 0: only msys.cidr.reload
    loaded: float = 0.0


class CidrStore:
    """``msys.cidr``: named CIDR databases. A source is read again by the first query
    ``refresh`` seconds after it was last read; if that read fails the old entries stay
    and ``warn`` says why. A datasource CIDR's rows come from Lua (``load_rows``), which
    runs its query with msys.db, at define, reload and refresh time."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        warn: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.cidrs: dict[str, Cidr] = {}
        self.clock = clock
        self.warn = warn

    def define(
        self,
        name: str,
        kind: str,
        source: str | None,
        value_kind: str,
        interpolate: bool,
        refresh: float = DEFAULT_CIDR_REFRESH,
    ) -> None:
        value_kind = value_kind.lower()
        if value_kind not in ("a", "txt"):
            raise PolicyDataError(f"value must be 'a' or 'txt', not '{value_kind}'")
        if kind == "rbldnsd" and not source:
            raise PolicyDataError("an rbldnsd CIDR needs a source")
        if kind not in ("rbldnsd", "empty", "datasource"):
            raise PolicyDataError(f"unknown CIDR type '{kind}' (datasource, rbldnsd or empty)")
        if refresh < 0:
            raise PolicyDataError("refresh must be 0 (manual) or a number of seconds")
        cidr = Cidr(kind, bool(interpolate), value_kind, source, CidrTable(), float(refresh))
        self._load(cidr)
        self.cidrs[name] = cidr

    def _load(self, cidr: Cidr) -> None:
        cidr.loaded = self.clock()
        if cidr.source is None:
            return
        path = cidr.source.removeprefix("file://")
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", path):  # Momentum's I/O wrappers
            raise PolicyDataError(
                f"cannot read '{cidr.source}': only local files (a path or file://) are emulated"
            )
        try:
            text = Path(path).read_bytes().decode("latin-1")
        except OSError as error:
            raise PolicyDataError(f"cannot read '{cidr.source}': {error.strerror}") from None
        try:
            cidr.table = read_rbldnsd(text, cidr.value_kind)
        except PolicyDataError as error:
            raise PolicyDataError(f"{cidr.source}: {error}") from None

    def _cidr(self, name: str) -> Cidr:
        return defined(self.cidrs, name, "CIDR")

    def load_rows(self, name: str, networks: Any, values: Any) -> None:
        """A datasource CIDR's entries: ``networks[i]`` (a Lua array, read during the
        call) maps to ``values[i]`` (a string), or to True where ``values`` is nil."""
        cidr = self._cidr(name)
        table = CidrTable()
        for index, text in networks.items():
            value = True if values is None else values[index]
            try:
                table.add(parse_network(str(text)), value if value is True else str(value))
            except PolicyDataError as error:
                raise PolicyDataError(f"row {index}: {error}") from None
        cidr.table = table
        cidr.loaded = self.clock()

    def query(self, name: str, address: str) -> CidrValue:
        """The matching entry's value, or None (the script's default_value applies)."""
        cidr = self._cidr(name)
        if cidr.source and cidr.refresh and self.clock() - cidr.loaded >= cidr.refresh:
            try:
                self._load(cidr)
            except PolicyDataError as error:
                self.warn(f"msys.cidr: '{name}' keeps its entries: {error}")
        parsed = parse_address(address)
        found, value = cidr.table.lookup(parsed)
        if not found or value is None:
            return None
        if cidr.interpolate and isinstance(value, str):
            return value.replace("$", str(parsed))
        return value

    def reload(self, name: str) -> None:
        self._load(self._cidr(name))


# -- msys.audit_series -------------------------------------------------------------------


@dataclass
class AuditSeries:
    kind: str  # cidr, cidr_ipv6, string
    interval: float
    windows: int
    counts: dict[object, dict[int, float]] = field(default_factory=dict)  # key → window → n


class AuditSeriesStore:
    """``msys.audit_series``: per-key counts in ``windows`` windows of ``interval``
    seconds; window 0 is the current one."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.series: dict[str, AuditSeries] = {}
        self._clock = clock

    def define(self, name: str, kind: str, interval: float, windows: float) -> None:
        """Define a series; defining it again the same way (a reload's ``init``) keeps
        its counts, another way starts it afresh."""
        if kind not in ("cidr", "cidr_ipv6", "string"):
            raise PolicyDataError(f"unknown series type '{kind}' (cidr, cidr_ipv6 or string)")
        if interval <= 0 or windows < 1 or windows != int(windows):
            raise PolicyDataError("interval must be positive and num_windows a whole number >= 1")
        existing = self.series.get(name)
        shape = (kind, float(interval), int(windows))
        if existing is None or (existing.kind, existing.interval, existing.windows) != shape:
            self.series[name] = AuditSeries(*shape)

    def _series(self, name: str) -> AuditSeries:
        return defined(self.series, name, "audit series")

    def _key(self, series: AuditSeries, key: str) -> object:
        if series.kind == "string":
            return key
        address = parse_address(key)
        if (address.version == 6) != (series.kind == "cidr_ipv6"):
            raise PolicyDataError(f"'{key}' does not fit a {series.kind} series")
        return address

    def kind(self, name: str) -> str:
        return self._series(name).kind

    def _window(self, series: AuditSeries) -> int:
        return int(self._clock() // series.interval)

    def add(self, name: str, key: str, count: float) -> None:
        series = self._series(name)
        windows = series.counts.setdefault(self._key(series, key), {})
        now = self._window(series)
        for old in [w for w in windows if w <= now - series.windows]:
            del windows[old]
        windows[now] = windows.get(now, 0) + count

    def count(self, name: str, key: str, start: float, end: float) -> float:
        series = self._series(name)
        now = self._window(series)
        first, last = sorted((int(start), int(end)))
        wanted = range(now - min(last, series.windows - 1), now - first + 1)
        keys: list[object]
        if series.kind == "string":
            keys = [key]
        else:
            network = parse_network(key) if "/" in key else None
            keys = [k for k in series.counts if k in network] if network else [
                self._key(series, key)
            ]
        return sum(
            n for k in keys for w, n in series.counts.get(k, {}).items() if w in wanted
        )

    def remove_item(self, name: str, key: str) -> None:
        series = self._series(name)
        series.counts.pop(self._key(series, key), None)


# -- msys.gauge_cache ----------------------------------------------------------------------


@dataclass
class GaugeCache:
    max_elems: int
    ttl: float
    entries: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)


class GaugeCacheStore:
    """``msys.gauge_cache``: string-keyed gauges; an entry lives ``ttl`` seconds after
    its last change, and past ``maxelems`` entries the oldest goes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.caches: dict[str, GaugeCache] = {}
        self._clock = clock

    def define(self, name: str, max_elems: float, ttl: float) -> None:
        """Define a cache; defining it again keeps its entries under the new limits."""
        if max_elems < 1 or ttl < 0:
            raise PolicyDataError("maxelems must be at least 1 and ttl 0 or more")
        cache = self.caches.setdefault(name, GaugeCache(int(max_elems), float(ttl)))
        cache.max_elems, cache.ttl = int(max_elems), float(ttl)
        while len(cache.entries) > cache.max_elems:
            cache.entries.popitem(last=False)

    def _cache(self, name: str) -> GaugeCache:
        return defined(self.caches, name, "gauge cache")

    def get(self, name: str, key: str) -> float:
        cache = self._cache(name)
        entry = cache.entries.get(key)
        if entry is None:
            return 0
        value, changed = entry
        if cache.ttl and self._clock() - changed > cache.ttl:
            del cache.entries[key]
            return 0
        return value

    def adjust(self, name: str, key: str, delta: float) -> float:
        cache = self._cache(name)
        value = self.get(name, key) + delta
        cache.entries.pop(key, None)
        cache.entries[key] = (value, self._clock())
        while len(cache.entries) > cache.max_elems:
            cache.entries.popitem(last=False)
        return value

    def remove_item(self, name: str, key: str) -> None:
        self._cache(name).entries.pop(key, None)


# -- msys.counter ----------------------------------------------------------------------------


class CounterStore:
    """``msys.counter``: integer counters named by path (``/site/<name>/…``)."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def open(self, path: str) -> None:
        if not path.startswith("/"):
            raise PolicyDataError(f"counter path '{path}' must start with '/'")
        self.values.setdefault(path, 0)

    def add(self, path: str, delta: float) -> int:
        self.open(path)
        self.values[path] += int(delta)
        return self.values[path]

    def read(self, path: str) -> int:
        return self.values.get(path, 0)

    def reset(self, path: str) -> None:
        if path in self.values:
            self.values[path] = 0

    def unlink(self, path: str) -> None:
        self.values.pop(path, None)


def _guarded(function: Callable[..., Any], lock: threading.Lock) -> Callable[..., tuple]:
    """Host functions answer ``true, result`` or ``false, message`` (Lua raises it), each
    under the stores' lock: a reload's ``init`` on its worker thread and handlers on the
    loop may update the same entries, and an update takes several Python steps. Nothing
    under the lock calls a script (``load_rows`` reads tables policy_data.lua built)."""

    def call(*args: Any) -> tuple:
        try:
            with lock:
                return True, function(*args)
        except PolicyDataError as error:
            return False, str(error)

    return call


@dataclass
class PolicyData:
    """The engine-side stores behind the four packages. A node keeps one for its life, so
    counters, series and gauges survive a configuration reload as Momentum's do; ``init``
    defining them again keeps their data."""

    cidr: CidrStore = field(default_factory=CidrStore)
    audit_series: AuditSeriesStore = field(default_factory=AuditSeriesStore)
    gauge_cache: GaugeCacheStore = field(default_factory=GaugeCacheStore)
    counter: CounterStore = field(default_factory=CounterStore)
    # One lock for the four: uncontended except while a reload loads (_guarded).
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def _host_functions(self, package: str) -> dict[str, Callable[..., Any]]:
        if package == "msys.cidr":
            cidr = self.cidr
            return {"define": cidr.define, "query": cidr.query, "reload": cidr.reload,
                    "load_rows": cidr.load_rows}
        if package == "msys.audit_series":
            series = self.audit_series
            return {"define": series.define, "kind": series.kind, "add": series.add,
                    "count": series.count, "remove": series.remove_item}
        if package == "msys.gauge_cache":
            gauges = self.gauge_cache
            return {"define": gauges.define, "get": gauges.get, "adjust": gauges.adjust,
                    "remove": gauges.remove_item}
        counters = self.counter
        return {"open": counters.open, "add": counters.add, "read": counters.read,
                "reset": counters.reset, "unlink": counters.unlink}

    def openers(self, db_row_columns: Any) -> dict[str, Callable[[lua51.LuaRuntime], Any]]:
        """An opener per package, building its Lua table over these stores;
        ``db_row_columns(row)`` is a msys.db row's column names in the query's order."""

        def opener(package: str) -> Callable[[lua51.LuaRuntime], Any]:
            def open_package(lua: lua51.LuaRuntime) -> Any:
                host: dict[str, Callable[..., Any]] = {
                    name: _guarded(fn, self.lock)
                    for name, fn in self._host_functions(package).items()
                }
                if package == "msys.cidr":  # plain: the clock, the paniclog's warn, columns
                    host["now"] = self.cidr.clock
                    host["warn"] = lambda message: self.cidr.warn(f"msys.cidr: {message}")
                    host["row_columns"] = db_row_columns
                return run_library_chunk(lua, "policy_data.lua", lua.table_from(host), package)

            return open_package

        return {package: opener(package) for package in POLICY_DATA_PACKAGES}


POLICY_DATA_PACKAGES = ("msys.cidr", "msys.audit_series", "msys.gauge_cache", "msys.counter")
