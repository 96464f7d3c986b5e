"""Console commands: the built-ins, dispatch to Lua-registered commands, and the one pipeline
both the control listener and ``MomentumNode.console`` run a command line through.

Dispatch (lua-runtime.md §3.2): a leading ``xml`` word is removed and sets ``cc.xml``; the
longest prefix of the words that names a built-in or a command the running generation
registered wins (a built-in wins a tie); anything else gets one ``Unknown command`` line.
"""

from __future__ import annotations

import functools
import os
import platform
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import metadata
from typing import TypeVar

from ..config import ConfigError, ConfigOption, ConfigScope
from ..config.values import parse_value_text
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
    """What ``version`` prints and the interactive client shows on connect."""
    rule = "#" * 72
    return (
        f"{rule}\n"
        f"# ecelerity version: momentum-httpsrv {_package_version()} (Momentum emulation)\n"
        "# Lua: thrLua 5.1 dialect on Lua 5.1 (lupa); modules: scriptlet, httpsrv\n"
        f"# Python {platform.python_version()} on {platform.system()} {platform.machine()}\n"
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
        return _unknown(texts)


def _ensure_newline(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def _match_builtin(texts: list[str]) -> Builtin | None:
    for length in range(min(len(texts), 2), 0, -1):
        found = BUILTINS.get(tuple(texts[:length]))
        if found is not None:
            return found
    return None


def _unknown(texts: list[str]) -> str:
    subcommands = sorted(words[1] for words in BUILTINS if len(words) > 1 and words[0] == texts[0])
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
    raise CommandError(_unknown(args))


@builtin("version", "", "show the version banner")
async def _version(invocation: Invocation) -> str:
    return version_banner()


@builtin("pid", "", "show the process id of the node")
async def _pid(invocation: Invocation) -> str:
    return f"{os.getpid()}\n"


@builtin("sysinfo", "", "show version and operating system information")
async def _sysinfo(invocation: Invocation) -> str:
    uname = platform.uname()
    return (
        f"momentum-httpsrv {_package_version()}\n"
        f"OS: {uname.system} {uname.release} {uname.version} {uname.machine}\n"
        f"Python: {sys.version.split()[0]}\n"
        f"Processors: {os.cpu_count()}\n"
    )


@builtin("shutdown", "", "stop the node (modules' deinit run, sockets removed)")
async def _shutdown(invocation: Invocation) -> str:
    invocation.node.request_shutdown()
    return "Shutting down.\n"


@builtin("paniclog", "[count]", "show the latest paniclog entries (default 50)")
async def _paniclog(invocation: Invocation) -> str:
    args = invocation.arg_texts()
    if args and not args[0].isdigit():
        raise CommandError("Usage: paniclog [count]")
    count = int(args[0]) if args else 50
    paniclog = invocation.node.paniclog
    entries = list(paniclog.entries)[-count:] if paniclog is not None and count else []
    return "".join(
        f"[{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(e.timestamp))}] "
        f"[{e.level}] {e.text}\n"
        for e in entries
    )


@builtin("module list", "", "list the configured modules")
async def _module_list(invocation: Invocation) -> str:
    generation = invocation.node.generation
    if generation is None:
        return ""
    blocks = []
    for scope in generation.config.root.scopes():
        if scope.kind.lower() not in ("scriptlet", "httpsrv", "alerting", "ec_logger"):
            continue
        lines = [f"Module: {scope.kind}", f"Scope_Name: {scope.kind}"]
        if scope.name is not None:
            lines.append(f"Instance_Name: {scope.name}")
        lines += [f"Enabled: {'true' if scope.get_bool('enabled', True) else 'false'}"]
        if scope.kind.lower() == "scriptlet":
            modules = ", ".join(generation.lua.module_names()) or "none"
            lines.append(f"Description: Lua scripts; registered modules: {modules}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


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


# --- mail queue --------------------------------------------------------------------------------


@builtin("delayed", "", "list the domains put in the delayed queue, with their notes")
async def _delayed(invocation: Invocation) -> str:
    delayed = invocation.node.mail_queue.delayed
    if not delayed:
        return "No delayed domains.\n"
    width = max(len(name) for name in delayed)
    return "".join(
        f"Domain: {entry.name.rjust(width)}  D: {entry.times:5d}  Note: {entry.note}\n"
        for entry in delayed.values()
    )


@builtin("domain", "<domain>", "show a domain's configuration and delayed-queue state")
async def _domain(invocation: Invocation) -> str:
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
    if entry is None:
        lines.append(f"Domain '{name}' is not in the delayed queue")
    else:
        lines.append(f"Domain '{name}' is in the delayed queue (delayed {entry.times} times)")
        lines.append(f"Note: {entry.note}")
    return "\n".join(lines) + "\n"


# --- config ------------------------------------------------------------------------------------


@builtin("config reload", "[path]", "re-read the configuration into a new generation")
async def _config_reload(invocation: Invocation) -> str:
    args = invocation.arg_texts()
    generation = await invocation.node.reload(args[0] if args else None)
    return f"Configuration reloaded (generation {generation.number}).\n"


def _scope_for(invocation: Invocation, words: list[str]) -> ConfigScope:
    generation = invocation.node.generation
    if generation is None:
        raise CommandError("the node has no running configuration")
    try:
        scope = generation.config.find_scope(words)
    except ConfigError as error:
        raise CommandError(str(error)) from None
    if scope is None:
        raise CommandError(f"No such scope: '{' '.join(words)}'")
    return scope


def _option_name(scope: ConfigScope, name: str) -> str:
    """The option's name as the schema spells it (``Blackhole``), else as typed."""
    known = scope.spec.option(name) if scope.spec is not None else None
    return known.name if known is not None else name


def _path_text(words: list[str]) -> str:
    return " ".join(words)


@builtin("config get", "[scope …] option", "show an option as set in exactly that scope")
async def _config_get(invocation: Invocation) -> str:
    args = invocation.arg_texts()
    if not args:
        raise CommandError("Usage: config get [scope …] option")
    scope = _scope_for(invocation, args[:-1])
    option = scope.option(args[-1])
    if option is None:
        name = _option_name(scope, args[-1])
        return f"Option '{name}' is not set in scope '{_path_text(args[:-1])}'.\n"
    return option.render() + "\n"


@builtin("config eval", "[scope …] option", "show an option's effective value (with fallbacks)")
async def _config_eval(invocation: Invocation) -> str:
    args = invocation.arg_texts()
    if not args:
        raise CommandError("Usage: config eval [scope …] option")
    return _effective(invocation, args[:-1], args[-1])


def _effective(invocation: Invocation, words: list[str], name: str) -> str:
    generation = invocation.node.generation
    assert generation is not None
    try:
        option = generation.config.lookup(words, name)
    except ConfigError as error:
        raise CommandError(str(error)) from None
    if option is None:
        return f"Option '{name}' has no value in scope '{_path_text(words)}'.\n"
    return option.render() + "\n"


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
    """``change_config`` and its warning (lua-runtime.md §1.6): registrations the new
    ``rsrc_setup`` run did not make again (made at script load or in ``init``) are gone.
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


@builtin("config set", "[scope …] option [=] value", "set an option in the running configuration")
async def _config_set(invocation: Invocation) -> str:
    args = invocation.args
    texts = invocation.arg_texts()
    generation = invocation.node.generation
    if len(args) < 2 or generation is None:
        raise CommandError("Usage: config set [scope …] option [=] value")
    # The deepest existing scope that leaves an option name and one value after it.
    missing_scope: list[str] | None = None
    bad_value: ConfigError | None = None
    for split in range(len(args) - 2, -1, -1):
        try:
            scope = generation.config.find_scope(texts[:split])
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
        value_text = invocation.line[value_words[0].start :].strip()
        try:
            parse_value_text(value_text)
        except ConfigError as error:  # more words than one value: maybe a scope was meant
            bad_value = bad_value or error
            continue
        name = texts[split]
        change = functools.partial(scope.set_option_text, name, value_text)
        option, warning = await _reconfigure(invocation, change, scope, name, scope.option(name))
        return option.render() + "\n" + warning
    if missing_scope:
        raise CommandError(f"No such scope: '{' '.join(missing_scope)}'")
    if bad_value is not None:
        raise ReconfigureError(str(bad_value))
    raise CommandError("Usage: config set [scope …] option [=] value")


@builtin("config unset", "[scope …] option", "remove an option from the running configuration")
async def _config_unset(invocation: Invocation) -> str:
    args = invocation.arg_texts()
    if not args:
        raise CommandError("Usage: config unset [scope …] option")
    scope = _scope_for(invocation, args[:-1])
    previous = scope.option(args[-1])
    if previous is None:
        name = _option_name(scope, args[-1])
        return f"Option '{name}' is not set in scope '{_path_text(args[:-1])}'.\n"
    _, warning = await _reconfigure(
        invocation, lambda: scope.unset_option(args[-1]), scope, args[-1], previous
    )
    effective = _effective(invocation, args[:-1], args[-1])
    return f'"{previous.name}" has been unset. Effective value is now:\n  {effective}{warning}'


@builtin("config show", "[scope …]", "show a scope's options (child scopes as { ... })")
async def _config_show(invocation: Invocation) -> str:
    return _scope_for(invocation, invocation.arg_texts()).render()


@builtin("config showrecurse", "[scope …]", "show a scope and everything inside it")
async def _config_showrecurse(invocation: Invocation) -> str:
    return _scope_for(invocation, invocation.arg_texts()).render(recursive=True)
