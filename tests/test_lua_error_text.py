"""Lua strings are bytes, and scripts are written in UTF-8: an error message with
non-ASCII characters reads as the script wrote it wherever it leaves the package — the
paniclog file (the bytes themselves), the in-process client's paniclog, exceptions and
console replies, and the paniclog logger's records."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from momentum_httpsrv.generation import GenerationError
from momentum_httpsrv.testing.client import MomentumTestClient

MESSAGE = "héllo ✓"
SITE = f'''
require("msys.extended.httpsrv")
msys.httpsrv.register("GET", "/fail", function(s) error("{MESSAGE}") end)
msys.registerControl("fail", function(cc) error("{MESSAGE}") end)
'''


def configured(directory: Path, script: str) -> Path:
    (directory / "site.lua").write_text(script, encoding="utf-8")
    config = directory / "ecelerity.conf"
    config.write_text('scriptlet "scriptlet" { script "site" { source = "site" } }\n')
    return config


def test_a_handlers_and_a_commands_error_read_as_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    paniclog = tmp_path / "paniclog.ec"
    with caplog.at_level(logging.ERROR, logger="momentum_httpsrv.paniclog"), \
            MomentumTestClient(configured(tmp_path, SITE), paniclog_path=paniclog) as client:
        assert client.get("/fail").status == 500
        assert client.console("fail").endswith(f"site.lua:4: {MESSAGE}\n")
        assert f"site.lua:3: {MESSAGE}\n" in client.paniclog
    assert f"site.lua:3: {MESSAGE}".encode() in paniclog.read_bytes()
    assert any(f"site.lua:3: {MESSAGE}" in record.getMessage() for record in caplog.records)


def test_a_failing_init_raises_its_message_as_written(tmp_path: Path) -> None:
    config = configured(tmp_path, f'error("{MESSAGE}")\n')
    with pytest.raises(GenerationError, match=f"site.lua:1: {MESSAGE}$"):
        MomentumTestClient(config)


def test_bytes_that_are_not_utf8_stay_as_they_are(tmp_path: Path) -> None:
    config = configured(tmp_path, 'error("caf\\233")\n')  # Latin-1 é: not UTF-8
    with pytest.raises(GenerationError, match="site.lua:1: caf\xe9$"):
        MomentumTestClient(config)
