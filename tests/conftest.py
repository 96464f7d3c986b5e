"""Shared test fixtures."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from momentum_httpsrv.cli import main

SITES = Path(__file__).parent / "sites"


@pytest.fixture
def site_dir(tmp_path: Path):
    """A factory: copy tests/sites/<name> into a temp dir and return its path."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(SITES / name, target)
        return target

    return copy


@pytest.fixture
def run_check(tmp_path: Path):
    """``run_check(config_text, files={name: text})``: write ecelerity.conf (and the other
    files) into a temp dir and run ``momentum-httpsrv check`` on it."""

    def run(config_text: str, files: dict[str, str] | None = None) -> Result:
        (tmp_path / "ecelerity.conf").write_text(config_text)
        for name, text in (files or {}).items():
            (tmp_path / name).write_text(text)
        return CliRunner().invoke(main, ["check", "-c", str(tmp_path / "ecelerity.conf")])

    return run


@pytest.fixture(params=["asyncio", "uvloop"])
def each_event_loop(request: pytest.FixtureRequest):
    """Run the test once on asyncio's own loop and once on uvloop (what ``serve`` uses
    where it installs); ``asyncio.run`` picks the loop from the policy set here."""
    if request.param == "asyncio":
        yield request.param
        return
    try:
        import uvloop
    except ImportError:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail("uvloop is not installed; CI=true needs it", pytrace=False)
        pytest.skip("uvloop is not installed")
    previous = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        yield request.param
    finally:
        asyncio.set_event_loop_policy(previous)
