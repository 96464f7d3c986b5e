"""Reports of Lua line coverage (``lua/coverage.py``): a terminal table, Cobertura XML
for CI, and an HTML view with the lines that never ran marked.

Cobertura rather than LCOV: GitLab's merge-request coverage view, Jenkins' Coverage
plugin and Azure DevOps read Cobertura, Codecov and most other services read both, and
it is what ``coverage.py xml`` writes, so a site's Python and Lua reports can be
published side by side by the same CI step.
"""

from __future__ import annotations

import html
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path
from xml.etree import ElementTree

from ..lua.coverage import FileCoverage, LineCoverage


def shown_path(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` when below it, else absolute."""
    return path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)


def line_ranges(lines: Iterable[int]) -> str:
    """``1-3, 7`` for lines 1, 2, 3, 7."""
    ranges: list[list[int]] = []
    for line in sorted(lines):
        if ranges and line == ranges[-1][1] + 1:
            ranges[-1][1] = line
        else:
            ranges.append([line, line])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


def _files(collector: LineCoverage) -> list[FileCoverage]:
    return [collector.files[path] for path in sorted(collector.files)]


def terminal_summary(collector: LineCoverage, base: Path) -> list[str]:
    """One line per script (lines, missed, percent, missed line numbers) and a total."""
    rows = [("Script", "Lines", "Miss", "Cover", "Missing")]
    total_lines = total_missed = 0
    for entry in _files(collector):
        lines, missed = len(entry.lines), len(entry.missed)
        total_lines, total_missed = total_lines + lines, total_missed + missed
        rows.append((shown_path(entry.path, base), str(lines), str(missed),
                     f"{entry.percent:.0f}%", line_ranges(entry.missed)))
    total_percent = 100.0 * (total_lines - total_missed) / total_lines if total_lines else 100.0
    rows.append(("TOTAL", str(total_lines), str(total_missed), f"{total_percent:.0f}%", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    out = []
    for index, row in enumerate(rows):
        if index in (1, len(rows) - 1):
            out.append("-" * (sum(widths) + 3 * 2 + 10))
        out.append("  ".join(
            [row[0].ljust(widths[0]), *(row[i].rjust(widths[i]) for i in (1, 2, 3)), row[4]]
        ).rstrip())
    return out


def write_cobertura(collector: LineCoverage, target: Path, base: Path) -> None:
    """Cobertura XML (the ``coverage-04.dtd`` shape): one package per directory, one
    class per script; line numbers are the thrLua source's own."""
    files = _files(collector)
    valid = sum(len(entry.lines) for entry in files)
    covered = valid - sum(len(entry.missed) for entry in files)
    root = ElementTree.Element("coverage", {
        "line-rate": _rate(covered, valid), "branch-rate": "0", "lines-covered": str(covered),
        "lines-valid": str(valid), "branches-covered": "0", "branches-valid": "0",
        "complexity": "0", "version": "momentum-httpsrv", "timestamp": str(int(time.time() * 1000)),
    })
    ElementTree.SubElement(ElementTree.SubElement(root, "sources"), "source").text = str(base)
    packages = ElementTree.SubElement(root, "packages")
    by_directory: dict[str, list[FileCoverage]] = {}
    for entry in files:
        directory = os.path.dirname(shown_path(entry.path, base)) or "."
        by_directory.setdefault(directory, []).append(entry)
    for directory, entries in by_directory.items():
        lines = sum(len(entry.lines) for entry in entries)
        hit = lines - sum(len(entry.missed) for entry in entries)
        package = ElementTree.SubElement(packages, "package", {
            "name": directory.replace("/", "."), "line-rate": _rate(hit, lines),
            "branch-rate": "0", "complexity": "0",
        })
        classes = ElementTree.SubElement(package, "classes")
        for entry in entries:
            name = shown_path(entry.path, base)
            cls = ElementTree.SubElement(classes, "class", {
                "name": Path(name).stem, "filename": name,
                "line-rate": _rate(len(entry.lines) - len(entry.missed), len(entry.lines)),
                "branch-rate": "0", "complexity": "0",
            })
            ElementTree.SubElement(cls, "methods")
            lines_element = ElementTree.SubElement(cls, "lines")
            for line in entry.lines:
                ElementTree.SubElement(lines_element, "line", {
                    "number": str(line), "hits": str(entry.hits.get(line, 0)),
                })
    target.parent.mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(root).write(target, encoding="utf-8", xml_declaration=True)


def _rate(part: int, whole: int) -> str:
    return f"{part / whole:.4f}" if whole else "1"


_STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; }
th, td { padding: 0.15em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
pre { margin: 0; }
.source td { text-align: left; font-family: monospace; white-space: pre; padding: 0 0.5em; }
.source td.number, .source td.count { text-align: right; color: #777; }
tr.run td.mark { background: #c8f0c8; }
tr.missed { background: #ffd7d7; }
tr.missed td.mark::before { content: "\\2716"; color: #b00; }
"""


def write_html(collector: LineCoverage, directory: Path, base: Path) -> Path:
    """``index.html`` (a table of scripts, worst first, each linking to its page) and one
    page per script: every source line with its number and run count; lines that hold
    code but never ran are shaded red and marked ✖ in the margin, lines that ran have a
    green margin. Returns the index path."""
    directory.mkdir(parents=True, exist_ok=True)
    files = sorted(_files(collector), key=lambda entry: (entry.percent, str(entry.path)))
    rows = []
    for number, entry in enumerate(files, 1):
        page = f"script{number}.html"
        name = shown_path(entry.path, base)
        (directory / page).write_text(_script_page(entry, name), encoding="utf-8")
        rows.append(
            f'<tr><td><a href="{page}">{html.escape(name)}</a></td><td>{len(entry.lines)}</td>'
            f"<td>{len(entry.missed)}</td><td>{entry.percent:.0f}%</td></tr>"
        )
    index = directory / "index.html"
    index.write_text(
        f"<!doctype html><meta charset='utf-8'><title>Lua coverage</title><style>{_STYLE}"
        "</style><h1>Lua line coverage</h1><table><tr><th>Script</th><th>Lines</th>"
        f"<th>Missed</th><th>Cover</th></tr>{''.join(rows)}</table>",
        encoding="utf-8",
    )
    return index


# Lua's lexer ends a line at \n or \r, a \r\n or \n\r pair counting once; str.splitlines
# also breaks at form feeds, U+2028 and others, which would shift every later line.
_LUA_LINE_BREAK = re.compile("\n\r?|\r\n?")


def lua_lines(source: str) -> list[str]:
    """``source``'s lines as Lua numbers them (line 1 first)."""
    lines = _LUA_LINE_BREAK.split(source)
    return lines[:-1] if lines and not lines[-1] else lines


def _script_page(entry: FileCoverage, name: str) -> str:
    try:
        source = lua_lines(entry.path.read_bytes().decode("utf-8", "replace"))
    except OSError as error:
        source = [f"(cannot read {entry.path}: {error.strerror})"]
    code = set(entry.lines)
    rows = []
    for number, text in enumerate(source, 1):
        count = entry.hits.get(number, 0)
        kind = ("run" if count else "missed") if number in code else "text"
        rows.append(
            f'<tr class="{kind}" id="L{number}"><td class="number">{number}</td>'
            f'<td class="mark"></td><td class="count">{count if number in code else ""}</td>'
            f"<td>{html.escape(text)}</td></tr>"
        )
    return (
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(name)}</title>"
        f"<style>{_STYLE}</style><p><a href='index.html'>all scripts</a></p>"
        f"<h1>{html.escape(name)}</h1><p>{len(entry.lines)} lines of code, "
        f"{len(entry.missed)} never ran ({entry.percent:.0f}% covered): "
        f"{html.escape(line_ranges(entry.missed)) or 'none'}</p>"
        f"<table class='source'>{''.join(rows)}</table>"
    )


def write_reports(collector: LineCoverage, xml_path: Path, html_dir: Path,
                  base: Path) -> list[str]:
    """Cobertura XML and the HTML view; returns the terminal summary with where they are."""
    collector.harvest_all()
    write_cobertura(collector, xml_path, base)
    index = write_html(collector, html_dir, base)
    return [*terminal_summary(collector, base),
            f"Lua coverage: Cobertura XML {shown_path(xml_path.absolute(), base)}, "
            f"HTML {shown_path(index.absolute(), base)}"]
