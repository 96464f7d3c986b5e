"""Console commands: the built-ins, dispatch to Lua-registered commands, and the one pipeline
both the control listener and ``MomentumNode.console`` run a command line through.

Dispatch (docs/emulation.md#console): a leading ``xml`` word is removed and sets ``cc.xml``; the
longest prefix of the words that names a built-in or a command the running generation
registered wins (a built-in wins a tie); anything else gets one ``Unknown command`` line.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import platform
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TypeVar

from ..config import ConfigError, ConfigOption, ConfigScope, Configuration
from ..config.schema import default_schema
from ..config.values import parse_value_text
from ..lua.threadpools import describe_pool
from .node_interface import ConsoleGeneration, ConsoleNode
from .protocol import CommandSyntaxError, Word, split_command

_Changed = TypeVar("_Changed")


class CommandError(Exception):
    """A command was used wrongly; the message is the whole reply."""


class ReconfigureError(CommandError):
    """A new configuration could not be applied; the running one stays (``config reload``,
    ``config set``/``unset``). The message starts with Momentum's ``Reconfigure failed``."""

    def __init__(self, cause: str) -> None:
        super().__init__(f"Reconfigure failed: {cause}")
        self.cause = cause


@dataclass(frozen=True)
class Invocation:
    """One command line being run: its words after the command name, and the raw line."""

    node: ConsoleNode
    line: str
    args: list[Word]

    def arg_texts(self) -> list[str]:
        return [word.text for word in self.args]


Handler = Callable[[Invocation], Awaitable[str]]


@dataclass(frozen=True)
class Builtin:
    words: tuple[str, ...]
    usage: str  # arguments after the command words
    summary: str
    handler: Handler

    @property
    def name(self) -> str:
        return " ".join(self.words)


BUILTINS: dict[tuple[str, ...], Builtin] = {}


def builtin(name: str, usage: str, summary: str) -> Callable[[Handler], Handler]:
    def add(handler: Handler) -> Handler:
        words = tuple(name.split())
        BUILTINS[words] = Builtin(words, usage, summary, handler)
        return handler

    return add


def version_banner() -> str:
    """What ``version`` prints and the interactive client shows on connect: the layout of
    console-commands/version.md (a rule of 46 ``#``, the version line, the product line)."""
    rule = "#" * 46
    return (
        f"{rule}\n"
        f"# ecelerity version: {_package_version()} (momentum-httpsrv)\n"
        "# Momentum emulation: httpsrv, scriptlet (thrLua 5.1 on lupa)\n"
        f"{rule}\n"
    )


def _package_version() -> str:
    try:
        return metadata.version("momentum-httpsrv")
    except metadata.PackageNotFoundError:
        return "unknown"


class ConsoleDispatcher:
    """Runs command lines against a node; every reply is text (Latin-1 convention)."""

    def __init__(self, node: ConsoleNode) -> None:
        self.node = node

    async def execute(self, line: str) -> str:
        try:
            words = split_command(line)
        except CommandSyntaxError as error:
            return f"Syntax error: {error}\n"
        xml = bool(words) and words[0].text == "xml"
        if xml:
            words = words[1:]
        if not words:
            return ""
        texts = [word.text for word in words]
        builtin_match = _match_builtin(texts)
        generation = self.node.generation
        lua_match = generation.control.registry.match(texts) if generation else None
        if builtin_match is not None and (
            lua_match is None or len(builtin_match.words) >= len(lua_match[0])
        ):
            invocation = Invocation(self.node, line, words[len(builtin_match.words) :])
            try:
                return _ensure_newline(await builtin_match.handler(invocation))
            except CommandError as error:
                return _ensure_newline(str(error))
        if lua_match is not None:
            assert generation is not None
            outcome = await generation.control.run_command(lua_match[1], texts, line, xml)
            if outcome.error is None:
                return outcome.output
            paniclog = self.node.paniclog
            if paniclog is not None:
                paniclog.error(outcome.error.message, outcome.error.traceback)
            return outcome.output + _ensure_newline(outcome.error.message)
        return unknown_command(texts)


def _ensure_newline(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def _match_builtin(texts: list[str]) -> Builtin | None:
    longest = max(len(words) for words in BUILTINS)
    for length in range(min(len(texts), longest), 0, -1):
        found = BUILTINS.get(tuple(texts[:length]))
        if found is not None:
            return found
    return None


def unknown_command(texts: list[str]) -> str:
    subcommands = sorted(
        {words[1] for words in BUILTINS if len(words) > 1 and words[0] == texts[0]}
    )
    if subcommands:
        what = " ".join(texts[:2])
        return f"Unknown command: '{what}'; '{texts[0]}' takes one of: {', '.join(subcommands)}\n"
    return f"Unknown command: '{texts[0]}'. Type 'help' for the list of commands.\n"


def command_names(node: ConsoleNode) -> list[str]:
    """Every command name: built-ins and those the running generation registered."""
    names = {builtin.name for builtin in BUILTINS.values()}
    if node.generation is not None:
        names.update(node.generation.control.registry.names())
    return sorted(names)


# --- general -----------------------------------------------------------------------------------


@builtin("help", "[command]", "list the commands, or describe one")
async def _help(invocation: Invocation) -> str:
    node, args = invocation.node, invocation.arg_texts()
    lua_names = node.generation.control.registry.names() if node.generation else []
    if not args:
        width = max(len(name) for name in command_names(node)) + 2
        lines = ["Commands (help COMMAND for one):"]
        for name in command_names(node):
            found = BUILTINS.get(tuple(name.split()))
            summary = found.summary if found else "registered by a Lua script"
            lines.append(f"  {name.ljust(width)}{summary}")
        return "\n".join(lines) + "\n"
    found = _match_builtin(args)
    if found is not None:
        return f"{' '.join((found.name, found.usage)).strip()}\n  {found.summary}\n"
    lua_match = node.generation.control.registry.match(args) if node.generation else None
    if lua_match is not None:
        return f"{' '.join(lua_match[0])}\n  registered by a Lua script (msys.registerControl)\n"
    if args[0] in lua_names or any(words[0] == args[0] for words in BUILTINS):
        subcommands = [b.name for b in BUILTINS.values() if b.words[0] == args[0]]
        return "\n".join(subcommands) + "\n"
    raise CommandError(unknown_command(args))


@builtin("version", "", "show the version banner")
async def _version(invocation: Invocation) -> str:
    return version_banner()


@builtin("pid", "", "show the process id of the node")
async def _pid(invocation: Invocation) -> str:
    return f"{os.getpid()}\n"


@builtin("sysinfo", "", "show version and operating system information")
async def _sysinfo(invocation: Invocation) -> str:
    """console-commands/sysinfo.md, in the layout current Momentum prints (the 5.0 sample
    in 4-container-running.md): version and word size, build date, product name, the OS
    release, then ``uname -snrvm``."""
    uname = platform.uname()
    bits = struct.calcsize("P") * 8
    built_at = time.localtime(Path(__file__).stat().st_mtime)
    # C's __DATE__: "Mmm dd yyyy", the day padded with a space
    built = f"{time.strftime('%b', built_at)} {built_at.tm_mday:2d} {built_at.tm_year}"
    lines = [
        f"Ecelerity Version: {_package_version()} r(momentum-httpsrv) ({bits}-bit)",
        f"build date: {built} (RELEASE)",
        "product name: momentum-httpsrv (Momentum emulation)",
    ]
    release = _os_release()
    if release:
        lines.append(release)
    lines.append(f"{uname.system} {uname.node} {uname.release} {uname.version} {uname.machine}")
    return "\n".join(lines) + "\n"


def _os_release() -> str | None:
    """The distribution's name line (``Rocky Linux release 9.5 (Blue Onyx)``), if any."""
    try:
        fields = platform.freedesktop_os_release()
    except OSError:
        return None
    return fields.get("PRETTY_NAME") or fields.get("NAME")


@builtin("shutdown", "", "stop the node (modules' deinit run, sockets removed)")
async def _shutdown(invocation: Invocation) -> str:
    invocation.node.request_shutdown()
    return "Shutting down.\n"


@builtin("paniclog", "[count]", "show the latest paniclog entries of each level (default 10)")
async def _paniclog(invocation: Invocation) -> str:
    """console-commands/paniclog.md: the last 10 entries of each level, oldest first, as
    ``[Sun 30 Nov 2003 10:31:37] [level] text``."""
    args = invocation.arg_texts()
    if args and not args[0].isdigit():
        raise CommandError("Usage: paniclog [count]")
    per_level = int(args[0]) if args else 10
    paniclog = invocation.node.paniclog
    entries = list(paniclog.entries) if paniclog is not None else []
    kept: list = []
    seen: dict[str, int] = {}
    for entry in reversed(entries):
        if seen.get(entry.level, 0) < per_level:
            seen[entry.level] = seen.get(entry.level, 0) + 1
            kept.append(entry)
    return "".join(paniclog_line(e.timestamp, e.level, e.text) for e in reversed(kept))


def paniclog_line(timestamp: float, level: str, text: str) -> str:
    when = time.strftime("%a %d %b %Y %H:%M:%S", time.localtime(timestamp))
    return f"[{when}] [{level}] {text}\n"


# What ``module list`` says about each module this project emulates: API, source name and
# description (console-commands/4-module.md's fields).
EMULATED_MODULES: dict[str, tuple[bool, str, str, str]] = {
    # scope kind: (singleton, API, Name, Description)
    "ec_logger": (False, "Logger", "ec_logger.c", "paniclog writer (momentum-httpsrv)"),
    "scriptlet": (False, "Generic", "scriptlet.c", "Lua scripts (momentum-httpsrv)"),
    "httpsrv": (True, "Singleton", "httpsrv.c", "HTTP server for Lua endpoints (momentum-httpsrv)"),
    "alerting": (True, "Singleton", "alerting.c", "accepted, not emulated (momentum-httpsrv)"),
}


@builtin("module list", "", "list the loaded modules")
async def _module_list(invocation: Invocation) -> str:
    """One block per module: ``Module: scope[:instance]``, then its fields indented."""
    generation = invocation.node.generation
    if generation is None:
        return ""
    blocks = []
    for scope in generation.config.root.scopes():
        known = EMULATED_MODULES.get(scope.kind.lower())
        if known is None:
            continue
        singleton, api, source, description = known
        kind = scope.kind.lower()
        instance = None if singleton else (scope.name or kind)
        enabled = bool(scope.get_bool("enabled", True))
        block = module_block(kind, instance, enabled, api, source, description)
        hooks = [line for line in generation.lua.module_hooks() if ":" in line]
        if kind == "scriptlet" and hooks:  # what the scripts' modules hook (not run here)
            block += f"  Policy_Hooks: {'; '.join(hooks)}\n"
        blocks.append(block)
    return "".join(blocks)


def module_block(
    kind: str, instance: str | None, enabled: bool, api: str, source: str, description: str
) -> str:
    lines = [f"Module: {kind}:{instance}" if instance else f"Module: {kind}"]
    lines.append(f"  Scope_Name: {kind}")
    if instance:
        lines.append(f"  Instance_Name: {instance}")
    lines += [
        f"  Enabled: {'enabled' if enabled else 'disabled'}",
        f"  API: {api}",
        f"  Name: {source}",
        f"  Description: {description}",
    ]
    return "".join(line + "\n" for line in lines)


@builtin("scriptlet eval", "<lua>", "run a Lua chunk in the shared state, print its results")
async def _scriptlet_eval(invocation: Invocation) -> str:
    generation = invocation.node.generation
    if not invocation.args or generation is None:
        raise CommandError("Usage: scriptlet eval <lua chunk or expression>")
    source = invocation.line[invocation.args[0].start :]
    outcome = await generation.control.evaluate(source)
    if outcome.error is not None:
        return outcome.output + _ensure_newline(outcome.error.message)
    return outcome.output


# --- thread pools (console-commands/threads.md) -------------------------------------------


@builtin("threads stats", "", "show every thread pool's concurrency and counters")
async def _threads_stats(invocation: Invocation) -> str:
    generation = invocation.node.generation
    if generation is None:
        return ""
    return "".join(describe_pool(pool.stat()) for pool in generation.lua.msys_async.pools)


def _queue(invocation: Invocation, name: str) -> str:
    generation = invocation.node.generation
    pool = generation.lua.msys_async.pools.find(name) if generation is not None else None
    queued = pool.queued if pool is not None else 0
    return f"Jobs in the {name} pool\n{queued} jobs\n"


@builtin("threads io queue", "", "show how many jobs wait for the IO pool")
async def _threads_io_queue(invocation: Invocation) -> str:
    return _queue(invocation, "IO")


@builtin("threads cpu queue", "", "show how many jobs wait for the CPU pool")
async def _threads_cpu_queue(invocation: Invocation) -> str:
    return _queue(invocation, "CPU")


# --- mail queue --------------------------------------------------------------------------------


@builtin("delayed", "[threshold]", "show domains whose delayed queue is bigger than threshold")
async def _delayed(invocation: Invocation) -> str:
    """console-commands/delayed.md: one row per domain over the threshold (connections,
    active, delayed, sent), then the totals over every domain. Here D counts the
    ``mail_queue_delay_domain`` calls; nothing is connected, active or sent."""
    args = invocation.arg_texts()
    if len(args) > 1 or (args and not args[0].isdigit()):
        raise CommandError("Usage: delayed <threshold>")
    threshold = int(args[0]) if args else 0
    delayed = invocation.node.mail_queue.delayed.values()
    rows = [
        delayed_row(f"Domain: {entry.name:>30}", 0, 0, entry.times, 0)
        for entry in delayed
        if entry.times > threshold
    ]
    rows.append(delayed_row("Total:", 0, 0, sum(entry.times for entry in delayed), 0))
    return "".join(rows)


def delayed_row(label: str, connections: int, active: int, delayed: int, sent: int) -> str:
    return f"{label:>38}  C: {connections:2d}  A:{active:7d}  D:{delayed:6d}  S:{sent:6d}\n"


@builtin("domain", "<domain>", "show a domain's configuration and queue sizes")
async def _domain(invocation: Invocation) -> str:
    """console-commands/domain.md without the DNS part (no MX lookups here): the domain's
    own configuration block, then its queues and counters."""
    args = invocation.arg_texts()
    if len(args) != 1:
        raise CommandError("Usage: domain <domain_name>")
    name = args[0].lower()
    node = invocation.node
    lines = []
    scope = node.generation.config.root.child("Domain", name) if node.generation else None
    if scope is not None:
        lines.append(f"Domain {name} {{")
        lines += ["  " + line for line in scope.render(recursive=True).splitlines()]
        lines.append("}")
    entry = node.mail_queue.delayed.get(name)
    lines += [
        "Queue:",
        f"        Active: {0:10d}",
        f"        Delayed: {entry.times if entry else 0:9d}",
        f"Deliveries: {0:9d}",
        f"Failures: {0:11d}",
        "Active Connections: 0",
    ]
    return "\n".join(lines) + "\n"


# --- config ------------------------------------------------------------------------------------


@builtin("config reload", "[path]", "re-read the configuration into a new generation")
async def _config_reload(invocation: Invocation) -> str:
    args = invocation.arg_texts()
    generation = await invocation.node.reload(args[0] if args else None)
    return f"Configuration reloaded (generation {generation.number}).\n"


def _running_config(invocation: Invocation) -> Configuration:
    generation = invocation.node.generation
    if generation is None:
        raise CommandError("the node has no running configuration")
    return generation.config


def scope_in(config: Configuration, words: list[str]) -> ConfigScope:
    try:
        scope = config.find_scope(words)
    except ConfigError as error:
        raise CommandError(str(error)) from None
    if scope is None:
        raise CommandError(f"No such scope: '{' '.join(words)}'")
    return scope


@functools.cache
def _canonical_names() -> dict[str, str]:
    """Every option the schema knows, lower-case name → Momentum's spelling."""
    names: dict[str, str] = {}
    pending, seen = [default_schema()], set()
    while pending:
        spec = pending.pop()
        if id(spec) in seen:
            continue
        seen.add(id(spec))
        for key, option in spec.options.items():
            names.setdefault(key, option.name)
        pending.extend(spec.children.values())
    return names


def canonical_name(name: str) -> str:
    """The option's name as Momentum prints it (``suspend_delivery`` → ``Suspend_Delivery``),
    whatever spelling the file or the command used; unknown options as typed."""
    return _canonical_names().get(name.lower(), name)


def render_option(option: ConfigOption) -> str:
    """``Name = value`` as the console prints an option: the canonical name."""
    return dataclasses.replace(option, name=canonical_name(option.name)).render()


def _path_text(words: list[str]) -> str:
    return " ".join(words)


# ``config get``/``eval`` asked about a scope indent the answer by eight spaces; asked
# about the global scope, flush left (console-commands/config.md's example session).
SCOPED_ANSWER_INDENT = " " * 8


def _shown(option: ConfigOption, words: list[str]) -> str:
    return (SCOPED_ANSWER_INDENT if words else "") + render_option(option) + "\n"


def config_get_text(config: Configuration, args: list[str]) -> str:
    """``config get [scope …] option``: the option as set in exactly that scope."""
    if not args:
        raise CommandError("Usage: config get [scope …] option")
    scope = scope_in(config, args[:-1])
    option = scope.option(args[-1])
    if option is None:
        name = canonical_name(args[-1])
        return f"Option '{name}' is not set in scope '{_path_text(args[:-1])}'.\n"
    return _shown(option, args[:-1])


def config_eval_text(config: Configuration, args: list[str]) -> str:
    """``config eval [scope …] option``: the effective value, with fallbacks and defaults."""
    if not args:
        raise CommandError("Usage: config eval [scope …] option")
    words, name = args[:-1], args[-1]
    try:
        option = config.lookup(words, name)
    except ConfigError as error:
        raise CommandError(str(error)) from None
    if option is None:
        return f"Option '{name}' has no value in scope '{_path_text(words)}'.\n"
    return _shown(option, words)


@builtin("config get", "[scope …] option", "show an option as set in exactly that scope")
async def _config_get(invocation: Invocation) -> str:
    return config_get_text(_running_config(invocation), invocation.arg_texts())


@builtin("config eval", "[scope …] option", "show an option's effective value (with fallbacks)")
async def _config_eval(invocation: Invocation) -> str:
    return config_eval_text(_running_config(invocation), invocation.arg_texts())


def _registered(generation: ConsoleGeneration) -> list[str]:
    """What a generation's scripts registered, as the lost-registration warning names it."""
    names = [f"endpoint {r.describe()}" for r in generation.httpsrv.registry]
    names += [f"auth endpoint {r.describe()}" for r in generation.httpsrv.auth_registry]
    return names + [f"console command '{name}'" for name in generation.control.registry.names()]


async def _reconfigure(
    invocation: Invocation,
    change: Callable[[], _Changed],
    scope: ConfigScope,
    name: str,
    previous: ConfigOption | None,
) -> tuple[_Changed, str]:
    """``change_config`` and its warning (docs/generations.md#config-set-and-unset):
    registrations the new ``rsrc_setup`` run did not make again (made at script load or in
    ``init``) are gone.
    Returns the change's result and the warning line ("" when nothing was lost)."""
    node = invocation.node
    assert node.generation is not None
    before = _registered(node.generation)
    result = await node.change_config(change, scope, name, previous)
    after = set(_registered(node.generation))
    lost = [what for what in before if what not in after]
    if not lost:
        return result, ""
    warning = (
        f"Warning: no longer registered: {', '.join(lost)}. Only registrations made in "
        "rsrc_setup survive config set/unset; those made at script load or in init are lost."
    )
    if node.paniclog is not None:
        node.paniclog.warn(f"config: {warning}")
    return result, warning + "\n"


@dataclass(frozen=True)
class SetTarget:
    """What a ``config set`` line means: the scope, the option and its value text."""

    scope: ConfigScope
    name: str
    value_text: str

    def apply(self) -> ConfigOption:
        """Set the option; the reply names it as the schema spells it (``config set
        suspend_delivery true`` answers ``Suspend_Delivery = true``)."""
        return self.scope.set_option_text(canonical_name(self.name), self.value_text)


def config_set_target(config: Configuration, args: list[Word], line: str) -> SetTarget:
    """Read ``[scope …] option [=] value``: the deepest existing scope that leaves an option
    name and one value after it (CommandError / ReconfigureError when none does)."""
    texts = [word.text for word in args]
    if len(args) < 2:
        raise CommandError("Usage: config set [scope …] option [=] value")
    missing_scope: list[str] | None = None
    bad_value: ConfigError | None = None
    for split in range(len(args) - 2, -1, -1):
        try:
            scope = config.find_scope(texts[:split])
        except ConfigError:
            scope = None
        if scope is None:
            missing_scope = missing_scope or texts[:split]
            continue
        value_words = args[split + 1 :]
        if value_words[0].text == "=" and len(value_words) > 1:
            value_words = value_words[1:]
        elif value_words[0].text == "=":
            continue
        value_text = line[value_words[0].start :].strip()
        try:
            parse_value_text(value_text)
        except ConfigError as error:  # more words than one value: maybe a scope was meant
            bad_value = bad_value or error
            continue
        return SetTarget(scope, texts[split], value_text)
    if missing_scope:
        raise CommandError(f"No such scope: '{' '.join(missing_scope)}'")
    if bad_value is not None:
        raise ReconfigureError(str(bad_value))
    raise CommandError("Usage: config set [scope …] option [=] value")


@builtin("config set", "[scope …] option [=] value", "set an option in the running configuration")
async def _config_set(invocation: Invocation) -> str:
    target = config_set_target(_running_config(invocation), invocation.args, invocation.line)
    scope, name = target.scope, target.name
    option, warning = await _reconfigure(invocation, target.apply, scope, name, scope.option(name))
    assert isinstance(option, ConfigOption)
    return render_option(option) + "\n" + warning


def describe_unset(previous: ConfigOption, config: Configuration, words: list[str]) -> str:
    effective = config_eval_text(config, [*words, previous.name]).lstrip(" ")
    return (
        f'"{canonical_name(previous.name)}" has been unset. Effective value is now:\n'
        f"{SCOPED_ANSWER_INDENT}{effective}"
    )


def config_unset_target(config: Configuration, args: list[str]) -> tuple[ConfigScope, str]:
    """The scope and option a ``config unset`` line names; CommandError when the option is
    not set there (the reply says so)."""
    if not args:
        raise CommandError("Usage: config unset [scope …] option")
    scope = scope_in(config, args[:-1])
    if scope.option(args[-1]) is None:
        name = canonical_name(args[-1])
        raise CommandError(f"Option '{name}' is not set in scope '{_path_text(args[:-1])}'.")
    return scope, args[-1]


@builtin("config unset", "[scope …] option", "remove an option from the running configuration")
async def _config_unset(invocation: Invocation) -> str:
    args = invocation.arg_texts()
    config = _running_config(invocation)
    scope, name = config_unset_target(config, args)
    previous = scope.option(name)
    assert previous is not None
    _, warning = await _reconfigure(
        invocation, lambda: scope.unset_option(name), scope, name, previous
    )
    return describe_unset(previous, config, args[:-1]) + warning


@builtin("config show", "[scope …]", "show a scope's options (child scopes as { ... })")
async def _config_show(invocation: Invocation) -> str:
    return scope_in(_running_config(invocation), invocation.arg_texts()).render()


@builtin("config showrecurse", "[scope …]", "show a scope and everything inside it")
async def _config_showrecurse(invocation: Invocation) -> str:
    scope = scope_in(_running_config(invocation), invocation.arg_texts())
    return scope.render(recursive=True)


# --- datasources (ds_core) ---------------------------------------------------------------------


def _datasources(invocation: Invocation) -> dict:
    generation = invocation.node.generation
    return generation.lua.datasources.by_name if generation else {}


@builtin("ds_core flush", "<cache_name>", "drop every cached result of one datasource")
async def _ds_core_flush(invocation: Invocation) -> str:
    args = invocation.arg_texts()
    if len(args) != 1:
        raise CommandError("Usage: ds_core flush <cache_name>")
    datasource = _datasources(invocation).get(args[0])
    if datasource is None:
        raise CommandError(f"no datasource named '{args[0]}'")
    return f"flushed {datasource.flush()} entries from cache '{datasource.name}'\n"


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


@builtin("ds_core stats", "", "each datasource cache's lookups, inserts and deletions")
async def _ds_core_stats(invocation: Invocation) -> str:
    lines = [
        "cache name                      lookups %                  deletions %",
        "                       elts  hit miss pend  total  inserts man ttl lru  total",
        "---------------------- ----- -------------------- -------- ------------------",
    ]
    for datasource in _datasources(invocation).values():
        stats = datasource.stats
        lookups = stats.hits + stats.misses
        deleted = stats.deleted_manual + stats.deleted_ttl + stats.deleted_lru
        lines.append(datasource.name[:22])
        lines.append(
            f"{'':22} {datasource.entries:5d} {_percent(stats.hits, lookups):3d} "
            f"{_percent(stats.misses, lookups):3d} {0:3d} {lookups:8d} {stats.inserts:8d} "
            f"{_percent(stats.deleted_manual, deleted):3d} "
            f"{_percent(stats.deleted_ttl, deleted):3d} "
            f"{_percent(stats.deleted_lru, deleted):3d} {deleted:6d}"
        )
    return "\n".join(lines) + "\n"
