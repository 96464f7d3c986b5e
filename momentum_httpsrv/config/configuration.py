"""A loaded configuration and the console's view of it (scope paths, ``config eval``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigDiagnostic, ConfigError
from .parser import Loader
from .schema import ScopeSpec, default_schema
from .tree import ConfigOption, ConfigScope
from .values import ConfigValue

_Step = tuple[str, "str | None"]  # (scope kind, instance name)


@dataclass(eq=False)
class Configuration:
    """The global scope plus where it came from and what looked suspicious.

    ``path`` is None for text parsed with ``parse_config_text`` under a ``<pseudo>`` name.
    ``search_path`` starts with the configuration's own directory. ``files`` lists every
    file read, in the order first read.
    """

    root: ConfigScope
    path: Path | None
    directory: Path
    search_path: list[Path]
    warnings: list[ConfigDiagnostic] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    # --- console paths: words such as ["binding", "smtp-01", "domain", "relay.com"] -------------

    def _steps(self, words: list[str]) -> list[_Step]:
        """Split console words into (kind, instance) steps.

        Whether a kind takes an instance word comes from the schema; for kinds the schema
        leaves open it comes from what the configuration contains (a following word that
        names an existing instance is taken as that instance).
        """
        steps: list[_Step] = []
        scope: ConfigScope | None = self.root
        spec: ScopeSpec | None = self.root.spec
        index = 0
        while index < len(words):
            kind = words[index]
            following = words[index + 1] if index + 1 < len(words) else None
            child_spec = spec.child(kind) if spec is not None else None
            named = child_spec.named if child_spec is not None else None
            if named is None:
                if scope is not None and following is not None and scope.child(kind, following):
                    named = True
                elif scope is not None and scope.child(kind, None) is not None:
                    named = False
                else:
                    named = following is not None
            if named and following is None:
                raise ConfigError(f"scope '{kind}' needs an instance name after it")
            name = following if named else None
            steps.append((kind, name))
            scope = scope.child(kind, name) if scope is not None else None
            spec = child_spec
            index += 2 if named else 1
        return steps

    def _walk(self, steps: list[_Step]) -> ConfigScope | None:
        scope: ConfigScope | None = self.root
        for kind, name in steps:
            if scope is None:
                return None
            scope = scope.child(kind, name)
        return scope

    def find_scope(self, words: list[str]) -> ConfigScope | None:
        """The scope the console words name, or None if the configuration has no such scope."""
        return self._walk(self._steps(words))

    def ensure_scope(self, words: list[str]) -> ConfigScope:
        """The scope the words name, created (empty) where missing — for ``config set``."""
        scope = self.root
        for kind, name in self._steps(words):
            scope, _ = scope.ensure_child(kind, name)
        return scope

    # --- config eval ----------------------------------------------------------------------------

    def lookup(self, words: list[str], option: str) -> ConfigOption | None:
        """The option ``config eval`` would show: innermost scope first, then fallbacks.

        For a path ``A B C`` the scopes tried are ``A B C``, then ``C`` placed directly in each
        enclosing scope (``A C``), then the enclosing scopes themselves (``A B``, ``A``), then
        a top-level ``C``, then the global scope. This reproduces Momentum's documented order
        for ``binding_group/binding/domain`` (4-ecelerity-conf-fallback.md) and our order for
        ``HTTP_Listener/Listen/Peer`` (docs/request-lifecycle.md#option-resolution). Missing
        scopes are skipped.
        If no scope sets the option, the documented default of the innermost scope that knows
        the option is returned as an option with ``location=None``. None when nothing applies.
        """
        steps = self._steps(words)
        candidates: list[list[_Step]] = [steps]
        if steps:
            innermost = steps[-1]
            candidates += [steps[:i] + [innermost] for i in range(len(steps) - 2, 0, -1)]
            candidates += [steps[:i] for i in range(len(steps) - 1, 0, -1)]
            candidates.append([innermost])
        candidates.append([])
        for candidate in candidates:
            scope = self._walk(candidate)
            found = scope.option(option) if scope is not None else None
            if found is not None:
                return found
        return self._default(steps, option)

    def _default(self, steps: list[_Step], option: str) -> ConfigOption | None:
        spec = self.root.spec
        specs: list[ScopeSpec] = [] if spec is None else [spec]
        for kind, _ in steps:
            spec = spec.child(kind) if spec is not None else None
            if spec is None:
                break
            specs.append(spec)
        for candidate in reversed(specs):
            known = candidate.option(option)
            if known is not None and known.default is not None:
                return ConfigOption(known.name, known.default, None)
        return None

    def eval(self, words: list[str], option: str) -> ConfigValue | None:
        """``config eval``: the effective value (see ``lookup``), None when nothing applies."""
        found = self.lookup(words, option)
        return None if found is None else found.value


def _search_path(directory: Path, extra: list[str | Path] | None) -> list[Path]:
    return list(dict.fromkeys([directory, *(Path(p) for p in extra or [])]))


def _new_root() -> ConfigScope:
    return ConfigScope("global", spec=default_schema())


def load_config(path: str | Path, search_path: list[str | Path] | None = None) -> Configuration:
    """Read ``path`` and everything it includes.

    Raises ConfigSyntaxError (``file:line:col: message``) for syntax errors, missing
    includes and include cycles, ConfigError if ``path`` itself cannot be read.
    """
    path = Path(path)
    directory = path.parent
    loader = Loader(_search_path(directory, search_path))
    root = _new_root()
    loader.load_main_file(path, root)
    return Configuration(root, path, directory, loader.search_path, loader.warnings, loader.files)


def parse_config_text(
    text: str, filename: str = "<string>", search_path: list[str | Path] | None = None
) -> Configuration:
    """Parse configuration text (Latin-1 convention) as if read from ``filename``.

    With a pseudo name such as ``<string>`` the current directory stands in for the
    configuration directory when resolving relative includes.
    """
    pseudo = filename.startswith("<")
    path = None if pseudo else Path(filename)
    directory = Path.cwd() if path is None else path.parent
    loader = Loader(_search_path(directory, search_path))
    root = _new_root()
    loader.load_text(text, filename, directory, root)
    return Configuration(root, path, directory, loader.search_path, loader.warnings, loader.files)
