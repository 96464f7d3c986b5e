"""Which scopes and options Momentum knows, with value types and documented defaults.

The schema only produces warnings (unknown scope, unknown option, value of the wrong type):
production configurations must load even when they use modules or options this project
does not catalogue. Scopes whose contents are not catalogued (most modules, cluster
internals) are *unchecked*: nothing inside them is reported as unknown, but options that are
known there are still type-checked.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from .lexer import TokenKind, tokenize
from .schema_data import MODULES, OPTION_TABLE, SCOPE_GROUPS
from .values import (
    ValueNode,
    node_from_python,
    read_value,
    to_bool,
    to_int,
    to_list,
    to_params,
    to_str,
)


class ValueType(enum.Enum):
    ANY = "any"
    BOOL = "bool"
    INT = "int"
    OCTAL = "octal"  # an int that is conventionally written in octal (file modes)
    STR = "str"
    LIST = "list"
    PARAMS = "params"


_CONVERTERS: dict[ValueType, Callable[[ValueNode], object]] = {
    ValueType.BOOL: to_bool,
    ValueType.INT: to_int,
    ValueType.OCTAL: to_int,
    ValueType.STR: to_str,
    ValueType.LIST: to_list,
    ValueType.PARAMS: to_params,
}


@dataclass(frozen=True)
class OptionSpec:
    name: str  # Momentum's display spelling
    type: ValueType
    default: ValueNode | None  # None: no documented default

    def problem(self, node: ValueNode) -> str | None:
        """Why ``node`` is not a valid value for this option, or None."""
        converter = _CONVERTERS.get(self.type)
        if converter is None:
            return None
        try:
            converter(node)
        except ValueError as exc:
            return str(exc)
        return None


@dataclass(eq=False)
class ScopeSpec:
    kind: str  # display spelling
    named: bool | None  # True: needs an instance name; False: takes none; None: either
    checked: bool = True  # False: unknown options/child scopes inside are not reported
    options: dict[str, OptionSpec] = field(default_factory=dict)
    children: dict[str, ScopeSpec] = field(default_factory=dict)

    def option(self, name: str) -> OptionSpec | None:
        return self.options.get(name.lower())

    def child(self, kind: str) -> ScopeSpec | None:
        return self.children.get(kind.lower())

    def add_child(self, spec: ScopeSpec) -> ScopeSpec:
        self.children[spec.kind.lower()] = spec
        return spec


@dataclass(frozen=True)
class _Row:
    spec: OptionSpec
    scopes: frozenset[str]


def _expand(ids: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for scope_id in ids:
        if scope_id in SCOPE_GROUPS:
            out |= _expand(SCOPE_GROUPS[scope_id].split())
        else:
            out.add(scope_id)
    return out


def _rows() -> list[_Row]:
    rows = []
    for number, line in enumerate(OPTION_TABLE.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        tokens = tokenize(line, f"schema_data.OPTION_TABLE line {number}")
        name, type_name = tokens[0].value, tokens[1].value
        default: ValueNode | None = None
        pos = 3
        if tokens[2].value != "-":
            default, pos = read_value(tokens, 2, "as default")
        scopes = [t.value for t in tokens[pos:] if t.kind is TokenKind.WORD]
        rows.append(
            _Row(OptionSpec(name, ValueType(type_name), default), frozenset(_expand(scopes)))
        )
    return rows


_LISTENERS = {
    "esmtp_listener": "ESMTP_Listener",
    "ecstream_listener": "ECStream_Listener",
    "control_listener": "Control_Listener",
    "http_listener": "HTTP_Listener",
    "xmpp_listener": "XMPP_Listener",
    "eccluster_listener": "ECCluster_Listener",
    "msgcserver_listener": "MSGCServer_Listener",
}

# Defaults that differ for one listener (options summary; Idle_Time as the listener page has it:
# docs/emulation.md#configuration).
_LISTENER_DEFAULTS = {
    "http_listener": {"tcp_recv_buffer_size": 32768, "tcp_send_buffer_size": 32768, "idle_time": 0},
}

# (id, display kind, named, parent ids)
_SCOPES = [
    ("binding_group", "Binding_Group", True, ("global",)),
    ("binding", "Binding", True, ("global", "binding_group")),
    ("domain", "Domain", True, ("global", "binding", "binding_group")),
    ("host", "Host", True, ("global", "binding", "binding_group")),
    ("pathway_group", "Pathway_Group", True, ("global",)),
    ("pathway", "Pathway", True, ("global", "pathway_group")),
    ("threadpool", "ThreadPool", True, ("global",)),
    ("eventloop", "EventLoop", True, ("global",)),
    ("datasource", "Datasource", True, ("global",)),
    ("security", "Security", False, ("global",)),
    ("debug_flags", "Debug_Flags", False, ("global",)),
    ("authorization", "Authorization", False, ("global",)),
    ("role", "Role", True, ("authorization",)),
    ("snmp", "SNMP", False, ("global",)),
    ("snmp_traps", "SNMP_Traps", False, ("global",)),
    ("destination", "Destination", True, ("snmp_traps",)),
    (
        "adaptive_sweep_rule",
        "Adaptive_Sweep_Rule",
        None,
        ("global", "binding", "binding_group", "domain"),
    ),
]
# Global scopes whose contents are not catalogued.
_UNCHECKED_SCOPES = {
    "logs": "Logs",
    "adaptive_backstore_leveldb": "Adaptive_Backstore_LevelDB",
    "adaptive_backstore_riak": "Adaptive_Backstore_Riak",
    "binding_auto_replumb": "Binding_Auto_Replumb",
    "binding_auto_replumb_interval": "Binding_Auto_Replumb_Interval",
}
_CHECKED_MODULES = {"alerting", "ec_logger", "http_logger", "httpsrv", "scriptlet"}
_NAMED_MODULES = {"scriptlet"}  # docs/generations.md#building-one: one instance name, always given


def _options(
    rows: list[_Row],
    wanted: Callable[[frozenset[str]], bool],
    defaults: Mapping[str, object] | None = None,
) -> dict[str, OptionSpec]:
    options = {}
    for row in rows:
        if wanted(row.scopes):
            spec = row.spec
            if defaults and spec.name.lower() in defaults:
                spec = OptionSpec(
                    spec.name, spec.type, node_from_python(defaults[spec.name.lower()])
                )
            options[spec.name.lower()] = spec
    return options


def _naming(*scope_ids: str) -> Callable[[frozenset[str]], bool]:
    """Rows whose scope list names any of ``scope_ids``."""
    return lambda scopes: any(scope_id in scopes for scope_id in scope_ids)


def _listener(rows: list[_Row], listener_id: str, kind: str) -> ScopeSpec:
    defaults = _LISTENER_DEFAULTS.get(listener_id)

    def nested(scope_id: str) -> Callable[[frozenset[str]], bool]:
        # listen/peer rows name the listeners they apply to; rows naming none apply to all.
        return lambda s: scope_id in s and (listener_id in s or not s & _LISTENERS.keys())

    spec = ScopeSpec(
        kind, named=False, options=_options(rows, lambda s: listener_id in s, defaults)
    )
    peer_options = _options(rows, nested("peer"), defaults)
    listen = spec.add_child(
        ScopeSpec("Listen", True, options=_options(rows, nested("listen"), defaults))
    )
    listen.add_child(ScopeSpec("Peer", True, options=peer_options))
    spec.add_child(ScopeSpec("Peer", True, options=peer_options))
    return spec


def _modules(rows: list[_Row]) -> list[ScopeSpec]:
    specs = []
    for word in MODULES.split():
        name = word.rstrip("*")
        named = False if word.endswith("*") else (True if name in _NAMED_MODULES else None)
        spec = ScopeSpec(
            name,
            named,
            checked=name in _CHECKED_MODULES,
            options=_options(rows, _naming("module", name)),
        )
        if name == "scriptlet":
            spec.add_child(
                ScopeSpec("script", True, options=_options(rows, lambda s: "script" in s))
            )
        specs.append(spec)
    return specs


@functools.cache
def default_schema() -> ScopeSpec:
    """The global scope's spec, with every known scope below it."""
    rows = _rows()
    root = ScopeSpec("global", named=False, options=_options(rows, lambda s: "global" in s))
    by_id = {"global": root}
    for scope_id, kind, named, parents in _SCOPES:
        by_id[scope_id] = ScopeSpec(
            kind, named, options=_options(rows, _naming(scope_id))
        )
        for parent in parents:
            by_id[parent].add_child(by_id[scope_id])
    for listener_id, kind in _LISTENERS.items():
        root.add_child(_listener(rows, listener_id, kind))
    for scope_id, kind in _UNCHECKED_SCOPES.items():
        options = _options(rows, _naming(scope_id))
        root.add_child(ScopeSpec(kind, None, checked=False, options=options))
    for module in _modules(rows):
        root.add_child(module)
    return root
