"""The paniclog: a logging handler that summarises repeated warnings and errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from momentum_httpsrv.httpsrv.requests import Request
from momentum_httpsrv.paniclog import Paniclog
from momentum_httpsrv.testing.client import MomentumTestClient


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_repeated_errors_are_written_once_then_counted(tmp_path: Path):
    clock = FakeClock()
    log = Paniclog(tmp_path / "paniclog.ec", clock=clock)
    for _ in range(5):
        log.error("site.lua:3: boom", "site.lua:3: boom\nstack traceback:\n\tsite.lua:3")
        clock.now += 1
    log.warn("something else")
    assert log.text().count("site.lua:3: boom") == 1
    clock.now += 60
    log.error("site.lua:3: boom")
    assert "site.lua:3: boom ... repeated 4 times in the last minute" in log.text()
    log.close()
    assert "repeated 4 times" in (tmp_path / "paniclog.ec").read_text()


def test_prints_are_all_kept(tmp_path: Path):
    log = Paniclog(None)
    for _ in range(3):
        log.write("hello")
    assert log.text() == "hello\nhello\nhello\n"


def test_pending_repeats_are_written_at_close(tmp_path: Path):
    log = Paniclog(tmp_path / "paniclog.ec")
    log.warn("w")
    log.warn("w")
    log.close()
    assert "w ... repeated once more in the last minute" in (tmp_path / "paniclog.ec").read_text()


def test_paniclog_entries_reach_caplog(caplog: pytest.LogCaptureFixture):
    log = Paniclog(None)
    with caplog.at_level(logging.INFO, logger="momentum_httpsrv.paniclog"):
        log.error("site.lua:1: oops")
        log.write("printed")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("ERROR", "site.lua:1: oops"),
        ("INFO", "printed"),
    ]


def test_malformed_request_targets_do_not_flood_the_paniclog(tmp_path: Path):
    (tmp_path / "ecelerity.conf").write_text("")
    client = MomentumTestClient(tmp_path / "ecelerity.conf")
    for number in range(200):
        request = Request("GET", f"bad-target-{number}", "1.1", [("Host", "x")], b"")
        response = client.node.call(request)
        assert response.status == 400
    client.close()
    assert len(client.node.paniclog.entries) <= 2
