"""Recursive-descent parser for ecelerity.conf, including ``include``/``readonly_include``.

Grammar (tokens from lexer.py)::

    block     := statement*
    statement := ("include" | "readonly_include") NAME
               | WORD "{" block "}"                  anonymous scope
               | WORD NAME "{" block "}"             named scope (NAME = word or string)
               | WORD ["="] value                    option
    value     := NAME | "(" value* ")" | "[" (NAME ["="] value)* "]"

Includes are spliced in where they stand, into the scope that contains them. A relative
include is looked up in the including file's directory first, then along the search path.
A directory includes its non-hidden regular files in alphabetical order (not recursively).
Options read from a ``readonly_include``d file, or from any file included more than once,
are marked read-only (conf-overview.md); a plain ``include`` inside a read-only file is not.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from .errors import ConfigDiagnostic, ConfigError, ConfigLocation, ConfigSyntaxError
from .lexer import Token, TokenKind, tokenize
from .reading import UnreadableSourceError, read_regular_file
from .tree import ConfigOption, ConfigScope
from .values import ValueNode, read_value

_INCLUDE_WORDS = {"include": False, "readonly_include": True}  # word -> read-only
_NAME_TOKENS = (TokenKind.WORD, TokenKind.STRING)
_VALUE_STARTS = (TokenKind.WORD, TokenKind.STRING, TokenKind.LPAREN, TokenKind.LBRACKET)


def scope_description(scope: ConfigScope) -> str:
    """How messages name a scope: ``the global scope`` or ``HTTP_Listener Listen ":2081"``."""
    headers: list[str] = []
    current: ConfigScope | None = scope
    while current is not None and current.parent is not None:
        headers.insert(0, current.header)
        current = current.parent
    return " ".join(headers) if headers else "the global scope"


class Loader:
    """Parses one configuration (a main file or text plus everything it includes)."""

    def __init__(self, search_path: list[Path]) -> None:
        self.search_path = search_path
        self.warnings: list[ConfigDiagnostic] = []
        self.files: list[Path] = []  # every file read, first inclusion order
        self._active: list[tuple[Path, str]] = []  # (resolved, display) being parsed
        self._times_read: Counter[Path] = Counter()
        self._options_by_file: dict[Path, list[ConfigOption]] = {}
        self._scriptlet: tuple[str | None, ConfigLocation] | None = None

    def warn(self, location: ConfigLocation, message: str) -> None:
        self.warnings.append(ConfigDiagnostic(location, message))

    # --- entry points ---------------------------------------------------------------------------

    def load_text(self, text: str, display: str, directory: Path, into: ConfigScope) -> None:
        _FileParser(self, tokenize(text, display), directory, None, False).parse_block(into)
        self._mark_multiply_included()

    def load_main_file(self, path: Path, into: ConfigScope) -> None:
        self._load_file(path, into, readonly=False, included_at=None)
        self._mark_multiply_included()

    # --- files ----------------------------------------------------------------------------------

    def _load_file(
        self, path: Path, into: ConfigScope, readonly: bool, included_at: ConfigLocation | None
    ) -> None:
        display = str(path)
        resolved = path.resolve()
        if any(active == resolved for active, _ in self._active):
            assert included_at is not None  # the main file is never active when it is loaded
            chain = " -> ".join([shown for _, shown in self._active] + [display])
            raise ConfigSyntaxError(included_at, f"include cycle: {chain}")
        try:
            data = read_regular_file(path)
        except UnreadableSourceError as exc:
            if included_at is None:
                raise ConfigError(str(exc)) from None
            raise ConfigSyntaxError(included_at, str(exc)) from None
        except OSError as exc:
            message = f"cannot read '{display}': {exc.strerror or exc}"
            if included_at is None:
                raise ConfigError(message) from None
            raise ConfigSyntaxError(included_at, message) from None
        if self._times_read[resolved] == 0:
            self.files.append(path)
        self._times_read[resolved] += 1
        self._active.append((resolved, display))
        tokens = tokenize(data.decode("latin-1"), display)
        _FileParser(self, tokens, path.parent, resolved, readonly).parse_block(into)
        self._active.pop()

    def include(self, target: Token, directory: Path, into: ConfigScope, readonly: bool) -> None:
        for path in self._resolve_include(target, directory):
            self._load_file(path, into, readonly, target.location)

    def _resolve_include(self, target: Token, directory: Path) -> list[Path]:
        # Lua/config strings are Latin-1 decoded bytes; turn them back into an OS path.
        name = os.fsdecode(target.value.encode("latin-1"))
        relative = Path(name)
        if relative.is_absolute():
            candidates = [relative]
        else:
            candidates = list(
                dict.fromkeys([directory / relative, *(d / relative for d in self.search_path)])
            )
        for candidate in candidates:
            if candidate.is_dir():
                entries = [p for p in candidate.iterdir() if not p.name.startswith(".")]
                return sorted((p for p in entries if p.is_file()), key=lambda p: p.name)
            if candidate.exists():
                return [candidate]
        looked = ", ".join(str(c) for c in candidates)
        raise ConfigSyntaxError(
            target.location, f"cannot include '{name}': no such file or directory (tried {looked})"
        )

    def record_option(self, resolved_file: Path | None, option: ConfigOption) -> None:
        if resolved_file is not None:
            self._options_by_file.setdefault(resolved_file, []).append(option)

    def _mark_multiply_included(self) -> None:
        for resolved, count in self._times_read.items():
            if count > 1:
                for option in self._options_by_file.get(resolved, []):
                    option.readonly = True

    def check_scriptlet(self, name: str | None, location: ConfigLocation) -> None:
        """Only one scriptlet instance name may be used (docs/generations.md#building-one)."""
        if self._scriptlet is None:
            self._scriptlet = (name, location)
            return
        first_name, first_location = self._scriptlet
        if (first_name or "").lower() != (name or "").lower():
            raise ConfigSyntaxError(
                location,
                f"scriptlet instance {_shown(name)} conflicts with scriptlet "
                f"{_shown(first_name)} at {first_location}: only one scriptlet instance name "
                f"may be used",
            )


def _shown(name: str | None) -> str:
    return "(unnamed)" if name is None else f'"{name}"'


class _FileParser:
    def __init__(
        self,
        loader: Loader,
        tokens: list[Token],
        directory: Path,
        resolved_file: Path | None,
        readonly: bool,
    ) -> None:
        self.loader = loader
        self.tokens = tokens
        self.pos = 0
        self.directory = directory
        self.resolved_file = resolved_file
        self.readonly = readonly

    def parse_block(self, scope: ConfigScope, opening: Token | None = None) -> None:
        """Statements up to the ``}`` matching ``opening`` (or end of file at top level)."""
        while True:
            token = self.tokens[self.pos]
            if token.kind is TokenKind.EOF:
                if opening is not None:
                    raise ConfigSyntaxError(
                        token.location,
                        f"expected '}}' to close '{scope.header}' opened at "
                        f"{opening.location.line}:{opening.location.col}, found end of file",
                    )
                return
            if token.kind is TokenKind.RBRACE:
                if opening is None:
                    raise ConfigSyntaxError(
                        token.location, "unexpected '}': no scope is open at this point"
                    )
                self.pos += 1
                return
            if token.kind is not TokenKind.WORD:
                raise ConfigSyntaxError(
                    token.location, f"expected an option or scope name, found {token.describe()}"
                )
            if token.value.lower() in _INCLUDE_WORDS:
                self._include(scope, token)
            else:
                self._statement(scope, token)

    def _include(self, scope: ConfigScope, keyword: Token) -> None:
        target = self.tokens[self.pos + 1]
        if target.kind not in _NAME_TOKENS:
            raise ConfigSyntaxError(
                target.location,
                f"expected a file or directory name after '{keyword.value}', "
                f"found {target.describe()}",
            )
        self.pos += 2
        readonly = _INCLUDE_WORDS[keyword.value.lower()]
        self.loader.include(target, self.directory, scope, readonly)

    def _statement(self, scope: ConfigScope, name: Token) -> None:
        following = self.tokens[self.pos + 1]
        if following.kind is TokenKind.LBRACE:
            self.pos += 1
            self._scope(scope, name, None)
        elif following.kind in _NAME_TOKENS and self.tokens[self.pos + 2].kind is TokenKind.LBRACE:
            self.pos += 2
            self._scope(scope, name, following)
        elif following.kind is TokenKind.EQUALS:
            node, self.pos = read_value(self.tokens, self.pos + 2, f"after '{name.value} ='")
            self._option(scope, name, node)
        elif following.kind in _VALUE_STARTS:
            node, self.pos = read_value(self.tokens, self.pos + 1, f"after '{name.value}'")
            self._option(scope, name, node)
        else:
            raise ConfigSyntaxError(
                following.location,
                f"expected '=', a value or '{{' after '{name.value}', found {following.describe()}",
            )

    def _scope(self, parent: ConfigScope, kind: Token, instance: Token | None) -> None:
        opening = self.tokens[self.pos]
        self.pos += 1
        name = None if instance is None else instance.value
        if parent.parent is None and kind.value.lower() == "scriptlet":
            self.loader.check_scriptlet(name, kind.location)
        scope, existed = parent.ensure_child(
            kind.value,
            name,
            name_raw=None if instance is None else instance.text,
            location=kind.location,
        )
        if not existed:
            self._check_scope(parent, scope, kind, instance)
        self.parse_block(scope, opening)

    def _check_scope(
        self, parent: ConfigScope, scope: ConfigScope, kind: Token, instance: Token | None
    ) -> None:
        spec = scope.spec
        if spec is None:
            if parent.spec is not None and parent.spec.checked:
                self.loader.warn(
                    kind.location,
                    f"unknown scope '{kind.value}' in {scope_description(parent)}; "
                    f"its contents are not checked",
                )
        elif spec.named and instance is None:
            self.loader.warn(
                kind.location,
                f"scope '{kind.value}' expects an instance name, as in {spec.kind} \"name\" {{ }}",
            )
        elif spec.named is False and instance is not None:
            self.loader.warn(
                instance.location,
                f"scope '{kind.value}' takes no instance name; found {instance.text}",
            )

    def _option(self, scope: ConfigScope, name: Token, node: ValueNode) -> None:
        option = ConfigOption(name.value, node, name.location, readonly=self.readonly)
        self.loader.record_option(self.resolved_file, option)
        previous = scope.put(option)
        where = scope_description(scope)
        if previous is not None:
            self.loader.warn(
                name.location,
                f"option '{name.value}' is set again in {where}; this value replaces the one "
                f"at {previous.location} (last wins)",
            )
        if scope.spec is None:
            return
        spec = scope.spec.option(name.value)
        if spec is None:
            if scope.spec.checked:
                self.loader.warn(name.location, f"unknown option '{name.value}' in {where}")
            return
        problem = spec.problem(option.node)
        if problem is not None:
            self.loader.warn(name.location, f"option '{name.value}': {problem}")
