"""The configuration tree: scopes holding options and child scopes in the order written.

Names are case-insensitive for lookups (Momentum: "all configuration options are case
insensitive") but keep the spelling first written. Instance names are compared the same way.
A ``Kind "instance"`` stanza written twice in the same scope is one scope: the second block
adds to the first, and an option set in both keeps the later value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, overload

from .errors import ConfigError, ConfigLocation, ConfigValueError
from .schema import ScopeSpec
from .values import (
    ConfigValue,
    ValueNode,
    node_from_python,
    parse_value_text,
    quote,
    to_bool,
    to_float,
    to_int,
    to_list,
    to_params,
    to_str,
)

_T = TypeVar("_T")


@dataclass(eq=False)
class ConfigOption:
    """One ``name = value`` line.

    ``location`` is None for options created at runtime (``config set``) and for schema
    defaults returned by ``Configuration.lookup``. ``readonly`` is True when the option came
    from a ``readonly_include`` file or from a file included more than once.
    """

    name: str
    node: ValueNode
    location: ConfigLocation | None
    readonly: bool = False

    @property
    def value(self) -> ConfigValue:
        return self.node.value

    @property
    def raw(self) -> str:
        """The value as written (quotes kept); lists and blocks on one line."""
        return self.node.raw

    def _convert(self, converter: Callable[[ValueNode], _T]) -> _T:
        try:
            return converter(self.node)
        except ValueError as exc:
            raise ConfigValueError(self.location, f"option '{self.name}': {exc}") from None

    def as_bool(self) -> bool:
        return self._convert(to_bool)

    def as_int(self) -> int:
        return self._convert(to_int)

    def as_float(self) -> float:
        return self._convert(to_float)

    def as_str(self) -> str:
        return self._convert(to_str)

    def as_list(self) -> list[ConfigValue]:
        return self._convert(to_list)

    def as_params(self) -> dict[str, ConfigValue]:
        return self._convert(to_params)

    def render(self, indent: str = "") -> str:
        return f"{indent}{self.name} = {self.node.render(indent)}"


def _key(name: str | None) -> str | None:
    return None if name is None else name.lower()


class ConfigScope:
    """A scope (``Kind``, ``Kind instance``, or the global scope) and what it contains."""

    def __init__(
        self,
        kind: str,
        name: str | None = None,
        *,
        name_raw: str | None = None,
        location: ConfigLocation | None = None,
        parent: ConfigScope | None = None,
        spec: ScopeSpec | None = None,
    ) -> None:
        self.kind = kind
        self.name = name
        if name_raw is None and name is not None:
            name_raw = quote(name)
        self._name_raw = name_raw
        self.location = location
        self.parent = parent
        self.spec = spec  # None: not in the schema, nothing inside is checked
        self._items: list[ConfigOption | ConfigScope] = []
        self._options: dict[str, ConfigOption] = {}
        self._children: dict[tuple[str, str | None], ConfigScope] = {}

    def __repr__(self) -> str:
        return f"<ConfigScope {self.header} at {self.location}>"

    @property
    def header(self) -> str:
        """``Kind`` or ``Kind "instance"`` as written, e.g. ``Listen ":2081"``."""
        return self.kind if self._name_raw is None else f"{self.kind} {self._name_raw}"

    @property
    def path(self) -> list[str]:
        """Console words that address this scope, e.g. ``["HTTP_Listener", "Listen", ":2081"]``."""
        words: list[str] = []
        scope: ConfigScope | None = self
        while scope is not None and scope.parent is not None:
            words[:0] = [scope.kind] if scope.name is None else [scope.kind, scope.name]
            scope = scope.parent
        return words

    # --- children -------------------------------------------------------------------------------

    def scopes(self, kind: str | None = None) -> list[ConfigScope]:
        """Child scopes in file order, optionally only those of one kind (case-insensitive)."""
        children = [item for item in self._items if isinstance(item, ConfigScope)]
        if kind is None:
            return children
        return [child for child in children if child.kind.lower() == kind.lower()]

    def scope(self, kind: str, name: str | None = None) -> ConfigScope | None:
        """The child ``kind name``; without ``name``, the first child of that kind."""
        if name is not None:
            return self.child(kind, name)
        matches = self.scopes(kind)
        return matches[0] if matches else None

    def child(self, kind: str, name: str | None) -> ConfigScope | None:
        """Exactly the child ``kind name``; ``name=None`` means the anonymous instance."""
        return self._children.get((kind.lower(), _key(name)))

    def ensure_child(
        self,
        kind: str,
        name: str | None,
        *,
        name_raw: str | None = None,
        location: ConfigLocation | None = None,
    ) -> tuple[ConfigScope, bool]:
        """The child ``kind name``, created if missing; the flag says whether it existed."""
        key = (kind.lower(), _key(name))
        existing = self._children.get(key)
        if existing is not None:
            return existing, True
        spec = None
        if self.spec is not None:
            spec = self.spec.child(kind)
        scope = ConfigScope(
            kind, name, name_raw=name_raw, location=location, parent=self, spec=spec
        )
        self._children[key] = scope
        self._items.append(scope)
        return scope, False

    # --- options --------------------------------------------------------------------------------

    def options(self) -> list[ConfigOption]:
        return [item for item in self._items if isinstance(item, ConfigOption)]

    def option(self, name: str) -> ConfigOption | None:
        return self._options.get(name.lower())

    def get(self, name: str, default: ConfigValue | None = None) -> ConfigValue | None:
        option = self.option(name)
        return default if option is None else option.value

    @overload
    def get_str(self, name: str, default: str) -> str: ...
    @overload
    def get_str(self, name: str, default: None = None) -> str | None: ...
    def get_str(self, name: str, default: str | None = None) -> str | None:
        option = self.option(name)
        return default if option is None else option.as_str()

    @overload
    def get_int(self, name: str, default: int) -> int: ...
    @overload
    def get_int(self, name: str, default: None = None) -> int | None: ...
    def get_int(self, name: str, default: int | None = None) -> int | None:
        option = self.option(name)
        return default if option is None else option.as_int()

    @overload
    def get_bool(self, name: str, default: bool) -> bool: ...
    @overload
    def get_bool(self, name: str, default: None = None) -> bool | None: ...
    def get_bool(self, name: str, default: bool | None = None) -> bool | None:
        option = self.option(name)
        return default if option is None else option.as_bool()

    @overload
    def get_float(self, name: str, default: float) -> float: ...
    @overload
    def get_float(self, name: str, default: None = None) -> float | None: ...
    def get_float(self, name: str, default: float | None = None) -> float | None:
        option = self.option(name)
        return default if option is None else option.as_float()

    def get_list(
        self, name: str, default: list[ConfigValue] | None = None
    ) -> list[ConfigValue] | None:
        option = self.option(name)
        return default if option is None else option.as_list()

    def get_params(
        self, name: str, default: dict[str, ConfigValue] | None = None
    ) -> dict[str, ConfigValue] | None:
        option = self.option(name)
        return default if option is None else option.as_params()

    def put(self, option: ConfigOption) -> ConfigOption | None:
        """Store ``option``, replacing one of the same name in place; returns the replaced one."""
        key = option.name.lower()
        previous = self._options.get(key)
        if previous is None:
            self._items.append(option)
        else:
            self._items[self._items.index(previous)] = option
        self._options[key] = option
        return previous

    def set_option(self, name: str, value: object) -> ConfigOption:
        """Set ``name`` from a Python value (``config set``); returns the new option.

        Strings are stored as strings (quoted when written back if needed), bools as
        ``true``/``false``, lists as ``( … )`` and dicts as ``[ … ]``.
        """
        return self._set(name, node_from_python(value))

    def set_option_text(self, name: str, text: str) -> ConfigOption:
        """Set ``name`` from configuration syntax such as ``0666``, ``"a b"`` or ``( x y )``."""
        return self._set(name, parse_value_text(text))

    def _set(self, name: str, node: ValueNode) -> ConfigOption:
        # Momentum accepts online changes to options from read-only files too; read-only only
        # decides where `config writeback` may save them (conf-overview.md), so no refusal here.
        _check_name(name)
        spec = self.spec.option(name) if self.spec is not None else None
        if spec is not None:
            problem = spec.problem(node)
            if problem is not None:
                raise ConfigValueError(None, f"option '{spec.name}': {problem}")
        existing = self.option(name)
        option = ConfigOption(existing.name if existing else name, node, None)
        self.put(option)
        return option

    def unset_option(self, name: str) -> ConfigOption | None:
        """Remove ``name`` from this scope; returns what was removed (None if it was not set)."""
        option = self._options.pop(name.lower(), None)
        if option is not None:
            self._items.remove(option)
        return option

    # --- output ---------------------------------------------------------------------------------

    def render(self, recursive: bool = False) -> str:
        """The scope's contents as ecelerity.conf text (``config show`` / ``showrecurse``).

        Without ``recursive`` child scopes appear as ``Kind "name" { ... }`` like Momentum's
        ``config show``; with it the text parses back to an equal tree.
        """
        return "".join(line + "\n" for line in self._render_lines("", recursive))

    def _render_lines(self, indent: str, recursive: bool) -> list[str]:
        lines: list[str] = []
        for item in self._items:
            if isinstance(item, ConfigOption):
                lines.append(item.render(indent))
            elif recursive:
                lines.append(f"{indent}{item.header} {{")
                lines.extend(item._render_lines(indent + "  ", recursive))
                lines.append(f"{indent}}}")
            else:
                lines.append(f"{indent}{item.header} {{ ... }}")
        return lines


def _check_name(name: str) -> None:
    written = node_from_python(name)
    if not name or written.raw != name:
        raise ConfigError(f"invalid option name {name!r}: use a bare word without spaces or quotes")
