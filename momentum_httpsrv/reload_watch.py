"""``serve --reload``: rebuild the generation when a file it was made from changes.

Watched: the configuration file, every file it included, and every script file the
generation's Lua state loaded (configured scripts and what they ``require``d). A change
runs the same reload as the console's ``config reload``; a broken edit leaves the
running generation serving, and its error is logged as a failed ``config reload`` is: one
line, ``config reload failed: …; still serving generation N``.
The directories are watched (editors often replace a file rather than write it), and
changes are filtered down to the watched files.

A save is reloaded once the watched files have been quiet for ``QUIET_MS`` (their stats
compared, ``_quiet``): an editor
that truncates and then writes (with a pause on a busy machine) would otherwise have
its empty file loaded, and a generation without the script's module served until the
write's own reload.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, awatch

from .console.commands import ReconfigureError
from .console.node_interface import ConsoleGeneration, ConsoleNode
from .lua.coverage import PACKAGE_ROOT

QUIET_MS = 400


def watched_files(generation: ConsoleGeneration) -> set[Path]:
    """The files a generation was built from (our own Lua files excluded)."""
    files = {Path(path).resolve() for path in generation.config.files}
    files |= {path.resolve() for path in generation.lua.loaded_files}
    return {path for path in files if not path.is_relative_to(PACKAGE_ROOT)}


async def reload_on_change(
    node: ConsoleNode, announce: Callable[[str], None], stop: asyncio.Event
) -> None:
    """Watch until ``stop`` is set; the watched set is re-read after each reload. The
    watcher says ``watching N files`` once it is up; a file that changed while it was
    starting is caught by comparing the files' stat with a snapshot taken before."""
    before: dict[Path, tuple[int, int] | None] = {}
    while not stop.is_set():
        assert node.generation is not None, "serve() a started node"
        watched = watched_files(node.generation)
        # Stats from before the reload read the files (an edit saved while it was loading
        # is then caught); a file new to the set is stat'ed now.
        before = {path: before[path] if path in before else _stat(path) for path in watched}
        directories = sorted({path.parent for path in watched})
        starting = True
        async for changes in awatch(
            *directories,
            stop_event=stop,
            recursive=False,
            watch_filter=functools.partial(_is_watched, watched),
            yield_on_timeout=True,
            rust_timeout=500,
            step=QUIET_MS,
        ):
            if starting:
                starting = False
                announce(f"--reload: watching {len(watched)} files")
                changes = changes | {(Change.modified, str(path)) for path in watched
                                     if _stat(path) != before[path]}
            if not changes:
                continue
            before = await _quiet(watched)
            changed = ", ".join(sorted({str(Path(path)) for _, path in changes}))
            announce(f"changed: {changed}; reloading")
            try:
                generation = await node.reload()
            except ReconfigureError:  # the node logged why, in one line
                continue
            announce(f"reloaded: generation {generation.number}")
            break


async def _quiet(watched: set[Path]) -> dict[Path, tuple[int, int] | None]:
    """The files' stats once none changed for ``QUIET_MS``. watchfiles' ``step`` does not
    promise that much quiet (a change seen just before its own timeout is handed on at
    once), so a truncate-then-write save is checked here."""
    current = {path: _stat(path) for path in watched}
    while True:
        await asyncio.sleep(QUIET_MS / 1000)
        latest = {path: _stat(path) for path in watched}
        if latest == current:
            return latest
        current = latest


def _is_watched(watched: set[Path], _change: Change, path: str) -> bool:
    return Path(path) in watched


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size
