"""Line coverage of the scripts a site loads.

While a :class:`LineCoverage` is active (``start_line_coverage``), every Lua state created
attaches to it: the state's debug hook (``hooks.lua``) counts the lines run in each script
file it loads, in every coroutine (requests, console commands, timers, pool jobs) and on
the main state (top level, ``init``, ``rsrc_setup``, ``deinit``). The translator keeps
line numbers, so the counts are the thrLua source's own lines. The lines that hold code
are read from each chunk's Lua 5.1 bytecode (``string.dump``), so a line that never ran
is known even when no call reached its function.

States hand their counts over when their generation ends (``harvest``); the collector
sums them per file across states, generations and tests. With no collector active,
nothing is attached: no hook runs.
"""

from __future__ import annotations

import struct
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .chunknames import INTERNAL_MARK
from .host import LuaHost
from .shipped import SHIPPED_LUA_DIR

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
_OP_RETURN = 30  # lopcodes.h, Lua 5.1


class BytecodeError(ValueError):
    """A ``string.dump`` result this reader does not understand (not Lua 5.1's format)."""


def code_lines(dump: bytes) -> set[int]:
    """The source lines holding instructions in a Lua 5.1 chunk and all its nested
    functions (``lineinfo``), leaving out a function's closing ``end`` when only its
    implicit final ``return`` sits there (it runs only when control falls off the end)."""
    if dump[:5] != b"\x1bLuaQ" or len(dump) < 12:
        raise BytecodeError("not a Lua 5.1 chunk")
    endian = "<" if dump[6] == 1 else ">"
    int_size, size_t_size, instruction_size, number_size = dump[7], dump[8], dump[9], dump[10]
    int_format = endian + {4: "i", 8: "q"}[int_size]
    size_format = endian + {4: "I", 8: "Q"}[size_t_size]
    instruction_format = endian + "I"
    if instruction_size != 4:
        raise BytecodeError(f"instructions of {instruction_size} bytes")
    at = 12
    lines: set[int] = set()

    def read(fmt: str, size: int) -> int:
        nonlocal at
        (value,) = struct.unpack_from(fmt, dump, at)
        at += size
        return value

    def skip_string() -> None:
        nonlocal at
        length = read(size_format, size_t_size)
        at += length

    def function() -> None:
        nonlocal at
        skip_string()  # source
        at += 2 * int_size + 4  # linedefined, lastlinedefined, nups, params, vararg, stack
        code_count = read(int_format, int_size)
        at += 4 * code_count
        last_instruction = (
            struct.unpack_from(instruction_format, dump, at - 4)[0] if code_count else 0
        )
        for _ in range(read(int_format, int_size)):  # constants
            kind = dump[at]
            at += 1
            if kind == 1:
                at += 1
            elif kind == 3:
                at += number_size
            elif kind == 4:
                skip_string()
            elif kind != 0:
                raise BytecodeError(f"constant of type {kind}")
        for _ in range(read(int_format, int_size)):  # nested functions
            function()
        line_count = read(int_format, int_size)
        line_info = list(struct.unpack_from(f"{endian}{line_count}{int_format[1]}", dump, at))
        at += line_count * int_size
        if line_info and last_instruction & 0x3F == _OP_RETURN and (
            line_info.count(line_info[-1]) == 1
        ):
            line_info.pop()
        lines.update(line_info)
        for _ in range(read(int_format, int_size)):  # local variables
            skip_string()
            at += 2 * int_size
        for _ in range(read(int_format, int_size)):  # upvalue names
            skip_string()

    function()
    return lines


@dataclass
class FileCoverage:
    """One script file: the lines holding code and how often each line ran."""

    path: Path
    code: set[int] = field(default_factory=set)
    hits: dict[int, int] = field(default_factory=dict)
    # Lines whose only code is the translator's: the helper prelude it puts on line 1.
    not_code: set[int] = field(default_factory=set)

    @property
    def lines(self) -> list[int]:
        """Every line that counts: code lines, and lines that ran (a closing ``end``)."""
        return sorted((self.code | set(self.hits)) - self.not_code)

    @property
    def missed(self) -> list[int]:
        return [line for line in self.lines if not self.hits.get(line)]

    @property
    def percent(self) -> float:
        lines = self.lines
        return 100.0 * (len(lines) - len(self.missed)) / len(lines) if lines else 100.0


class CoveredState(LuaHost, Protocol):
    """A Lua state line coverage attaches to (runtime.LuaState)."""

    hooks: Any
    line_coverage: StateCounter | None


@dataclass
class StateCounter:
    """One attached state's Lua-side counter and the file each of its chunks came from."""

    lua: Any
    paths: dict[str, Path]


class LineCoverage:
    """Counts, per script file, of the lines run in every attached Lua state."""

    def __init__(self, exclude: tuple[Path, ...] = ()) -> None:
        # Our own Lua (shipped modules such as Test.More) is not the user's to cover.
        self.exclude = (PACKAGE_ROOT, *exclude)
        self.files: dict[Path, FileCoverage] = {}
        self._states: weakref.WeakSet[CoveredState] = weakref.WeakSet()

    def attach(self, state: CoveredState) -> StateCounter:
        """Count lines in ``state`` from now on; returns its counter."""
        counter = StateCounter(None, {})
        host = state.lua.table_from(
            {"track": lambda chunkname, dump: self._track(chunkname, dump, counter.paths)}
        )
        counter.lua = state.run_package_lua(
            Path(__file__).with_name("coverage.lua"), state.hooks, state.api, host
        )
        if SHIPPED_LUA_DIR not in self.exclude:
            self.exclude = (*self.exclude, SHIPPED_LUA_DIR)
        self._states.add(state)
        return counter

    def _track(self, chunkname: str, dump: str, paths: dict[str, Path]) -> bool:
        """Host call for every file chunk a state loads: record its code lines and say
        whether to count it. The path is resolved now: the current directory may change
        before the counts are harvested."""
        if chunkname.startswith(("=", INTERNAL_MARK)):
            return False
        path = Path(chunkname[1:]).resolve()
        if not path.is_file() or any(path.is_relative_to(root) for root in self.exclude):
            return False  # not a file (a chunk named "@x" by loadstring), or our own Lua
        paths[chunkname] = path
        entry = self.files.setdefault(path, FileCoverage(path))
        entry.code |= code_lines(dump.encode("latin-1"))
        if not _first_line_has_code(path):
            entry.not_code.add(1)
        return True

    def harvest(self, state: CoveredState) -> None:
        """Add what ``state`` counted since its last harvest (call outside host calls)."""
        counter = state.line_coverage
        if counter is None:
            return
        for chunkname, lines in counter.lua.take().items():
            entry = self.files[counter.paths[chunkname]]
            for line, count in lines.items():
                entry.hits[int(line)] = entry.hits.get(int(line), 0) + int(count)

    def harvest_all(self) -> None:
        """Harvest every attached state still alive (before a report)."""
        for state in list(self._states):
            self.harvest(state)


def _first_line_has_code(path: Path) -> bool:
    """False when line 1 is blank, a ``--`` comment or a shebang: code counted there is
    the helper prelude the thrLua translator puts in front of line 1 (dialect.py)."""
    try:
        with path.open("rb") as source:
            first = source.readline().strip()
    except OSError:
        return True
    return bool(first) and not first.startswith((b"#", b"--"))


_active: LineCoverage | None = None


def start_line_coverage(collector: LineCoverage | None = None) -> LineCoverage:
    """Make ``collector`` (or a new one) count in every Lua state created from now on."""
    global _active
    _active = collector or LineCoverage()
    return _active


def stop_line_coverage() -> LineCoverage | None:
    """Stop attaching new states; returns the collector, every live state harvested."""
    global _active
    collector, _active = _active, None
    if collector is not None:
        collector.harvest_all()
    return collector


def attach_if_active(state: CoveredState) -> StateCounter | None:
    """The state's counter when coverage is on, else None (and no hook)."""
    return _active.attach(state) if _active is not None else None


def harvest(state: CoveredState) -> None:
    """Hand a state's counts to the active collector (a generation ends, a test ends)."""
    if _active is not None:
        _active.harvest(state)
