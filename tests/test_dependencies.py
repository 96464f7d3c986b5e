"""Dependency floors that matter for correctness or security."""

from importlib.metadata import requires, version

from packaging.requirements import Requirement


def test_h11_floor_excludes_releases_that_misparse_chunked_bodies():
    """h11 before 0.16 accepts malformed chunked bodies (CVE-2025-43859)."""
    (h11,) = [Requirement(r) for r in requires("momentum-httpsrv") or [] if r.startswith("h11")]
    assert not h11.specifier.contains("0.15.0")
    assert h11.specifier.contains(version("h11"))
