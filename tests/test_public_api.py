"""What the package offers its users and its other layers: each subpackage's exports, the
typing marker, the package metadata."""

from __future__ import annotations

import importlib
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import momentum_httpsrv

SUBPACKAGES = ["config", "console", "httpsrv", "lua", "testing"]


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_each_subpackage_exports_its_public_names(name: str) -> None:
    package = importlib.import_module(f"momentum_httpsrv.{name}")
    exported = package.__all__
    assert exported, f"momentum_httpsrv.{name} exports nothing"
    missing = [item for item in exported if getattr(package, item, None) is None]
    assert missing == []


def test_the_testing_package_loads_the_server_only_on_use() -> None:
    """pytest imports the plugin for every run: that must not start Lua or the node."""
    probe = (
        "import sys, momentum_httpsrv.testing.pytest_plugin\n"
        "print(sorted(m for m in ('lupa', 'momentum_httpsrv.node') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"


def test_the_package_is_marked_typed() -> None:
    assert (Path(momentum_httpsrv.__file__).parent / "py.typed").is_file()


def test_the_package_metadata_is_complete_and_versioned_once() -> None:
    meta = metadata.metadata("momentum-httpsrv")
    assert meta["Version"] == momentum_httpsrv.__version__
    assert meta["License-Expression"] == "MIT"
    classifiers = meta.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    assert any(c.startswith("Programming Language :: Python :: 3.11") for c in classifiers)
