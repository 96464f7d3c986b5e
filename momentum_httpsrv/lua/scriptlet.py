"""The scriptlet module: which scripts a configuration names, where their files are,
and loading them in stanza order into one Lua state (docs/generations.md#building-one)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import Configuration
from ..config.reading import read_regular_file
from .runtime import LuaScriptError, LuaState


class ScriptNotFoundError(LuaScriptError):
    """A ``source`` that resolves to no file (Momentum's "Unable to open" message)."""


@dataclass(frozen=True)
class ScriptSpec:
    """One ``script "<name>" { source = "…" }`` stanza."""

    name: str
    source: str
    where: str  # file:line:col of the stanza, for messages


def configured_scripts(config: Configuration) -> list[ScriptSpec]:
    """Every script stanza of every ``scriptlet`` scope, in file order."""
    specs = []
    for scriptlet in config.root.scopes("scriptlet"):
        for script in scriptlet.scopes("script"):
            location = script.location
            where = script.header if location is None else ":".join(map(str, location))
            source = script.get_str("source", None)
            if source is None:
                raise LuaScriptError(f"{where}: script '{script.name}' has no source option")
            specs.append(ScriptSpec(script.name or "", source, where))
    return specs


def is_momentum_builtin(source: str) -> bool:
    """Momentum's own scripts (``msys.boot``, ``msys.adaptive``…) are built in here."""
    return source.startswith(("msys.", "msys/"))


def resolve_source(source: str, search_path: Sequence[Path]) -> Path | None:
    """The file a ``source`` names, or None for a Momentum built-in script.

    A literal existing path wins (Momentum's own test harness uses absolute ``.lua``
    paths); otherwise dots and slashes are directory separators, ``.lua`` is appended,
    and each search-path directory is tried in order.
    """
    literal = Path(source)
    candidates = [literal] if literal.is_absolute() else [d / literal for d in search_path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    relative = Path(source.replace(".", "/") + ".lua")
    for directory in search_path:
        candidate = directory / relative
        if candidate.is_file():
            return candidate
    if is_momentum_builtin(source):
        return None
    first = search_path[0] / relative if search_path else relative
    raise ScriptNotFoundError(f"Unable to open '{first}', errno=2 No such file or directory")


def script_chunkname(path: Path) -> str:
    """How errors and tracebacks name a script: relative to the current directory when
    it is below it (``conf/hello_api.lua:12:``), else its full path. Lua keeps only the
    last 60 characters of a name, so short names stay whole."""
    try:
        return path.resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class ScriptSource:
    """A configured script and its text (None for a Momentum built-in)."""

    spec: ScriptSpec
    path: Path | None
    text: str | None


def read_scripts(config: Configuration, search_path: Sequence[Path]) -> list[ScriptSource]:
    """Find and read every configured script: file work only, so a reload does it off the
    event loop. ScriptNotFoundError, or UnreadableSourceError for a FIFO, device or
    oversized file."""
    sources = []
    for spec in configured_scripts(config):
        path = resolve_source(spec.source, search_path)
        text = None if path is None else read_regular_file(path).decode("latin-1")
        sources.append(ScriptSource(spec, path, text))
    return sources


def load_scripts(
    state: LuaState, config: Configuration, sources: list[ScriptSource] | None = None
) -> list[ScriptSpec]:
    """Run every configured script's top-level code, in stanza order (``sources``: read
    beforehand by ``read_scripts``)."""
    if sources is None:
        sources = read_scripts(config, state.search_path)
    for source in sources:
        if source.path is not None and source.text is not None:  # None: a built-in
            state.execute(source.text, "@" + script_chunkname(source.path))
    return [source.spec for source in sources]
