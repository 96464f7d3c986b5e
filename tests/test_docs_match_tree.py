"""The design notes and the README's Layout section describe the tree as it is: every
module is listed, and every path they name exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "momentum_httpsrv"
DOCS = REPO / "docs"
_PATH = re.compile(r"`([\w./-]+\.(?:py|lua|md))`")


def _layout_section() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return readme.split("## Layout", 1)[1].split("\n## ", 1)[0]


def _package_files() -> list[str]:
    return sorted(
        path.relative_to(PACKAGE).as_posix()
        for pattern in ("*.py", "*.lua")
        for path in PACKAGE.rglob(pattern)
    )


def test_the_architecture_note_lists_every_module() -> None:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    missing = [name for name in _package_files() if f"`{name}`" not in text]
    assert missing == [], "add a row for each to docs/architecture.md#modules"


@pytest.mark.parametrize("note", sorted(p.name for p in DOCS.glob("*.md")))
def test_every_path_a_note_names_exists(note: str) -> None:
    text = (DOCS / note).read_text(encoding="utf-8")
    missing = [
        name for name in _PATH.findall(text)
        if "/" in name and not any((base / name).exists() for base in (REPO, PACKAGE, DOCS))
    ]
    assert missing == []


def test_the_readme_layout_names_every_part_of_the_package() -> None:
    layout = _layout_section()
    parts = sorted(
        f"momentum_httpsrv/{path.name}" + ("/" if path.is_dir() else "")
        for path in PACKAGE.iterdir()
        if (path.is_dir() and (path / "__init__.py").exists())
        or (path.suffix == ".py" and not path.name.startswith("__"))
    )
    assert [part for part in parts if f"`{part}`" not in layout] == []
    first_cells = re.findall(r"^\| ([^|]+) \|", layout, re.M)
    named = [name for cell in first_cells for name in re.findall(r"`([\w./]+)`", cell)]
    assert [name for name in named if not (REPO / name).exists()] == []


def test_code_cites_the_notes_and_the_sections_exist() -> None:
    """A citation ``docs/<note>.md#<section>`` names a note and one of its headings."""
    cited = set()
    for path in [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.lua")]:
        cited.update(re.findall(r"docs/([\w-]+\.md)#([\w-]+)", path.read_text(encoding="utf-8")))
    broken = []
    for note, anchor in sorted(cited):
        headings = re.findall(r"^#+ (.+)$", (DOCS / note).read_text(encoding="utf-8"), re.M)
        anchors = {re.sub(r"[^\w -]", "", h).strip().lower().replace(" ", "-") for h in headings}
        if anchor not in anchors:
            broken.append(f"{note}#{anchor}")
    assert broken == []
