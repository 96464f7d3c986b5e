"""Shared test fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SITES = Path(__file__).parent / "sites"


@pytest.fixture
def site_dir(tmp_path: Path):
    """A factory: copy tests/sites/<name> into a temp dir and return its path."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(SITES / name, target)
        return target

    return copy
