"""The package's import graph: no cycles, and layers import downward only (config at the
bottom, then lua, the HTTP core, the listeners, console, node, and cli/testing on top)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import momentum_httpsrv
from momentum_httpsrv.httpsrv.routing import AuthVerdict
from momentum_httpsrv.lua.msys_core import CORE_CONSTANTS

PACKAGE = Path(momentum_httpsrv.__file__).parent
ROOT = "momentum_httpsrv"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """Package modules ``path`` imports anywhere (top level, functions, TYPE_CHECKING)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # ``from package import module`` depends on the module, not the package
            candidates = [
                f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target
                for alias in node.names
            ]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        # a module's own packages are initialised before it runs: not a dependency
        found.update(
            c for c in candidates
            if c in modules and c != name and not name.startswith(c + ".")
        )
    return found


def _graph() -> dict[str, set[str]]:
    paths = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {name: _imports(path, name, modules) for name, path in paths.items()}


GRAPH = _graph()


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules around it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (found := visit(target)) is not None:
                return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)) is not None:
            return found
    return None


def test_the_package_has_no_import_cycles() -> None:
    assert _cycle(GRAPH) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def _in(module: str, *areas: str) -> bool:
    return any(module == f"{ROOT}.{area}" or module.startswith(f"{ROOT}.{area}.")
               for area in areas)


TOP = ("cli", "__main__", "testing")
# (the modules a rule covers, the areas they must not import, why)
RULES = [
    (("config",), ("lua", "httpsrv", "console", "node", "netlistener", *TOP),
     "config is the bottom layer"),
    (("lua",), ("httpsrv", "console", "node", "netlistener", "listen_address", *TOP),
     "the Lua runtime knows nothing of HTTP or the console"),
    (("httpsrv",), ("console", "node", *TOP), "the HTTP layer sits below console and node"),
    (("netlistener", "listen_address"), ("httpsrv", "console", "lua", "node", *TOP),
     "the listen socket serves HTTP and console alike"),
    (("console",), ("node", *TOP), "the console reaches the node through node_interface"),
    (("node", "generation", "lua_environment", "stop_signals", "listener_config", "paniclog",
      "reload_watch"), TOP,
     "node is below the CLI and the test tools"),
    (("generation", "lua_environment", "stop_signals", "listener_config", "paniclog",
      "reload_watch"), ("node",),
     "node.py wires the modules it is split into; they do not reach back into it"),
]


@pytest.mark.parametrize(("owners", "forbidden", "why"), RULES, ids=[r[2] for r in RULES])
def test_layers_import_downward_only(
    owners: tuple[str, ...], forbidden: tuple[str, ...], why: str
) -> None:
    broken = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items() if _in(module, *owners)
        for target in targets if _in(target, *forbidden)
    )
    assert broken == [], why


def test_the_http_core_does_not_import_the_lua_runtime() -> None:
    """Only the binding (lua_binding.py) joins the two; handler errors and auth verdicts
    are the HTTP core's own types."""
    broken = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _in(module, "httpsrv") and module != f"{ROOT}.httpsrv.lua_binding"
        for target in targets if _in(target, "lua")
    )
    assert broken == []


def test_msys_core_auth_constants_are_the_http_cores_verdicts() -> None:
    assert {name: CORE_CONSTANTS[f"EC_AUTH_{name}"] for name in AuthVerdict.__members__} == {
        name: verdict.value for name, verdict in AuthVerdict.__members__.items()
    }
