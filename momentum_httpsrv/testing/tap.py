"""Reading TAP (the Test Anything Protocol) as ``Test.More`` writes it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_RESULT = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(.*))?$")
_PLAN = re.compile(r"^1\.\.(\d+)(?:\s*#\s*(.*))?$")


@dataclass
class TapPoint:
    ok: bool
    number: int
    description: str
    directive: str = ""  # "SKIP …" or "TODO …"

    @property
    def counts_as_failure(self) -> bool:
        return not self.ok and not self.directive.upper().startswith("TODO")


@dataclass
class TapReport:
    points: list[TapPoint] = field(default_factory=list)
    planned: int | None = None
    skip_all: str | None = None
    bailed_out: str | None = None
    diagnostics: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Why this run failed; empty when it passed."""
        problems = []
        if self.bailed_out is not None:
            problems.append(f"Bail out! {self.bailed_out}")
        if self.planned is None and self.skip_all is None:
            problems.append("no plan (1..N) was printed")
        elif self.planned is not None and self.planned != len(self.points):
            problems.append(f"planned {self.planned} tests but ran {len(self.points)}")
        for point in self.points:
            if point.counts_as_failure:
                problems.append(f"not ok {point.number} - {point.description}")
        return problems


def parse_tap(text: str) -> TapReport:
    """Parse TAP output; lines that are not TAP are kept as diagnostics."""
    report = TapReport()
    for line in text.splitlines():
        if line.startswith("Bail out!"):
            report.bailed_out = line[len("Bail out!") :].strip()
        elif match := _PLAN.match(line):
            report.planned = int(match.group(1))
            if report.planned == 0:
                report.skip_all = match.group(2) or ""
                report.planned = None
        elif match := _RESULT.match(line):
            number = int(match.group(2)) if match.group(2) else len(report.points) + 1
            report.points.append(
                TapPoint(match.group(1) == "ok", number, match.group(3), match.group(4) or "")
            )
        elif line.strip():
            report.diagnostics.append(line)
    return report
