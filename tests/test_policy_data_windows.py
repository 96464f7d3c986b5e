"""Time-dependent behaviour of the policy data stores, with a clock the test moves:
audit series windows (window 0 is the current one, only num_windows are kept), gauge
entries expire ttl seconds after their last change, statvfs snapshots are taken again
once the interval has passed."""

from __future__ import annotations

import ipaddress

import pytest

from momentum_httpsrv.lua.lib.msys_os import StatvfsStreams
from momentum_httpsrv.lua.lib.policy_data import (
    AuditSeriesStore,
    CidrStore,
    GaugeCacheStore,
    PolicyDataError,
    read_rbldnsd,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_audit_series_counts_per_window_and_forgets_old_windows():
    clock = Clock()
    store = AuditSeriesStore(clock)
    store.define("rcpt", "string", 60, 3)
    store.add("rcpt", "a", 1)
    clock.now += 60
    store.add("rcpt", "a", 2)
    clock.now += 60
    store.add("rcpt", "a", 4)
    assert store.count("rcpt", "a", 0, 0) == 4  # the current window
    assert store.count("rcpt", "a", 1, 1) == 2  # the one before
    assert store.count("rcpt", "a", 0, 2) == 7  # the whole range
    assert store.count("rcpt", "a", 2, 0) == 7  # in either order
    clock.now += 60
    store.add("rcpt", "a", 8)
    assert store.count("rcpt", "a", 0, 5) == 14  # only 3 windows are kept


def test_defining_again_keeps_the_data_unless_the_shape_changes():
    clock = Clock()
    series, gauges = AuditSeriesStore(clock), GaugeCacheStore(clock)
    series.define("s", "string", 60, 3)
    series.add("s", "a", 5)
    gauges.define("g", 10, 60)
    gauges.adjust("g", "k", 3)
    series.define("s", "string", 60, 3)  # a reload's init
    gauges.define("g", 10, 60)
    assert (series.count("s", "a", 0, 0), gauges.get("g", "k")) == (5, 3)
    series.define("s", "string", 30, 3)
    assert series.count("s", "a", 0, 0) == 0


def test_audit_series_define_checks_its_arguments():
    store = AuditSeriesStore(Clock())
    with pytest.raises(PolicyDataError, match="unknown series type"):
        store.define("s", "ip", 60, 3)
    with pytest.raises(PolicyDataError, match="num_windows a whole number"):
        store.define("s", "cidr", 60, 1.5)
    with pytest.raises(PolicyDataError, match="no audit series named 'x'"):
        store.add("x", "a", 1)


def test_gauge_entries_expire_ttl_after_their_last_change():
    clock = Clock()
    store = GaugeCacheStore(clock)
    store.define("g", 10, 30)
    store.adjust("g", "k", 1)
    clock.now += 20
    store.adjust("g", "k", 1)  # changed: lives 30 s from now
    clock.now += 20
    assert store.get("g", "k") == 2
    clock.now += 11
    assert store.get("g", "k") == 0


def test_statvfs_snapshots_follow_the_smallest_interval(tmp_path):
    clock = Clock()
    streams = StatvfsStreams(clock)
    streams.subscribe(str(tmp_path), 60)
    streams.subscribe(str(tmp_path), 5)
    assert streams.read(str(tmp_path))[0]["version"] == 1
    clock.now += 4
    assert streams.read(str(tmp_path))[0]["version"] == 1
    clock.now += 1
    assert streams.read(str(tmp_path))[0]["version"] == 2
    assert streams.read("/never/subscribed") == (
        None, "no statvfs subscription for '/never/subscribed'"
    )


def test_rbldnsd_ranges_and_bad_lines():
    table = read_rbldnsd("10.0.0.5-10.0.0.6 :127.0.0.7:range\n", "a")
    lookup = table.lookup
    assert lookup(ipaddress.ip_address("10.0.0.6")) == (True, "127.0.0.7")
    assert lookup(ipaddress.ip_address("10.0.0.7")) == (False, None)
    with pytest.raises(PolicyDataError, match="line 2: cannot read 'not an address'"):
        read_rbldnsd("10.0.0.1\nnot an address\n", "a")


def test_cidr_sources_are_read_again_after_refresh_seconds(tmp_path):
    clock, warnings = Clock(), []
    store = CidrStore(clock, warnings.append)
    source = tmp_path / "rbl.txt"
    source.write_text("10.0.0.0/8\n")
    store.define("rbl", "rbldnsd", str(source), "a", False, 60)
    store.define("manual", "rbldnsd", str(source), "a", False, 0)
    source.write_text("172.16.0.0/12\n")
    clock.now += 59
    assert store.query("rbl", "172.16.0.1") is None
    clock.now += 1
    assert store.query("rbl", "172.16.0.1") == "127.0.0.2"  # due: read again
    assert store.query("manual", "172.16.0.1") is None  # refresh 0: only reload
    source.unlink()
    clock.now += 60
    assert store.query("rbl", "172.16.0.1") == "127.0.0.2"  # kept
    assert warnings == [
        f"msys.cidr: 'rbl' keeps its entries: cannot read '{source}': No such file or directory"
    ]
