"""Command line: ``momentum-httpsrv serve | call | check | lua``.

Exit statuses (README's Commands table): 0 success; 1 a ``lua`` script failed or the
console could not reach its node; 2 a usage error (click's own); 3 the configuration or
a script could not be applied; 4 ``serve`` could not listen (address in use, bad path).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from .config import ConfigError
from .config.stanza_use import unused_stanza_notes
from .console import client as console_client
from .console.server import DEFAULT_CONTROL_SOCKET
from .generation import GenerationError
from .httpsrv.access_log import AccessLog
from .httpsrv.listener import PARSERS, run_event_loop
from .httpsrv.requests import Request
from .lua import coverage
from .lua.errors import script_text
from .lua.runtime import LuaScriptError
from .lua.standalone import StandaloneUsageError, parse_command_line, run_command
from .lua_environment import create_lua_environment
from .netlistener import NetListenerError
from .node import MomentumNode
from .testing.coverage_report import write_reports
from .workers import Supervisor, WorkerChannel, WorkersError, worker_command

EXIT_CONFIG = 3  # the configuration or a script could not be applied
EXIT_LISTEN = 4  # serve could not bind a listener
DEFAULT_CONFIGS = (Path("conf/ecelerity.conf"), Path("ecelerity.conf"))
config_option = click.option(
    "-c", "--config", "config_path", default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="ecelerity.conf to load  [default: conf/ecelerity.conf, else ./ecelerity.conf]",
)
coverage_option = click.option(
    "--coverage", "coverage_xml", type=click.Path(dir_okay=False, path_type=Path),
    help="record Lua line coverage: Cobertura XML to FILE, HTML to FILE's name + '-html/'",
)


def _config_or_exit(config_path: Path | None) -> Path:
    """``-c``, else the first default that exists, else exit 3 with a hint."""
    if config_path is not None:
        return config_path
    for candidate in DEFAULT_CONFIGS:
        if candidate.is_file():
            return candidate
    click.echo(
        f"no configuration: neither {DEFAULT_CONFIGS[0]} nor ./{DEFAULT_CONFIGS[1]} exists "
        f"in {Path.cwd()}; pass -c path/to/ecelerity.conf", err=True,
    )
    sys.exit(EXIT_CONFIG)


def _started_node(config_path: Path | None, echo_log: bool) -> MomentumNode:
    """A node with its configuration applied, or exit 3 with the reason (file:line…)."""
    node = MomentumNode(_config_or_exit(config_path), echo_log=_echo_log if echo_log else None)
    try:
        node.start()
    except GenerationError:  # the node logged why, and the log is echoed to stderr
        node.stop()
        sys.exit(EXIT_CONFIG)
    except (ConfigError, LuaScriptError, OSError) as error:
        click.echo(script_text(str(error)), err=True)
        node.stop()
        sys.exit(EXIT_CONFIG)
    return node


def _echo_log(level: str, text: str) -> None:
    """Warnings and errors on stderr. A ``file:line:col: warning: …`` diagnostic already
    names its level after its location and is shown as it is."""
    if level == "info":
        return
    labelled = f": {level}: " in text.partition("\n")[0]
    click.echo(script_text(text if labelled else f"{level}: {text}"), err=True)


def _coverage_starts(coverage_xml: Path | None) -> None:
    """Start counting; FILE is created now, so a path that cannot be written is a usage
    error before anything runs, not a traceback at the end."""
    if coverage_xml is not None:
        try:
            coverage_xml.parent.mkdir(parents=True, exist_ok=True)
            coverage_xml.touch()
        except OSError as error:
            raise click.BadParameter(f"cannot write {coverage_xml}: {error.strerror}",
                                     param_hint="--coverage") from None
        coverage.start_line_coverage()


def _coverage_reports(coverage_xml: Path | None) -> None:
    """Write the reports of ``--coverage`` and print the summary on stderr."""
    if coverage_xml is None:  # not ours to stop (pytest --momentum-cov may be counting)
        return
    collector = coverage.stop_line_coverage()
    if collector is None:
        return
    html_dir = coverage_xml.with_name(coverage_xml.stem + "-html")
    for line in write_reports(collector, coverage_xml, html_dir, Path.cwd()):
        click.echo(line, err=True)


@click.group()
@click.version_option(package_name="momentum-httpsrv")
def main() -> None:
    """Run Momentum Lua HTTP endpoints and console commands outside Momentum."""


@main.command()
@config_option
@click.option("--http-parser", type=click.Choice(sorted(PARSERS)), default="httptools",
              show_default=True, help="HTTP/1.1 parser: httptools (llhttp), or h11 (the reference)")
@click.option("--access-log", "access_log_path", metavar="FILE",
              help="log one line per request to FILE ('-': stderr)")
@click.option("--reload", "watch", is_flag=True,
              help="reload when the configuration, its includes or a loaded script changes")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="processes sharing each HTTP listener (SO_REUSEPORT), each its own Lua state")
@click.option("--worker-spec", hidden=True, help="set by serve --workers for its workers")
@coverage_option
def serve(config_path: Path | None, http_parser: str, access_log_path: str | None,
          watch: bool, workers: int, worker_spec: str | None, coverage_xml: Path | None) -> None:
    """Serve the configuration's HTTP listeners until SIGINT or SIGTERM."""
    if workers > 1 and watch:
        raise click.BadParameter("--reload serves one process; drop it or --workers",
                                 param_hint="--workers")
    try:
        # with --workers, each worker writes the access log (the supervisor serves no HTTP)
        access_log = AccessLog.open(access_log_path) if access_log_path and workers == 1 else None
    except OSError as error:
        raise click.BadParameter(f"cannot write {access_log_path}: {error.strerror}",
                                 param_hint="--access-log") from None
    _coverage_starts(coverage_xml)
    node = _started_node(config_path, echo_log=True)
    announce = lambda text: click.echo(text, err=True)  # noqa: E731
    try:
        if worker_spec is not None:
            run_event_loop(node.serve(announce=lambda text: None, http_parser=http_parser,
                                      access_log=access_log, worker=WorkerChannel(worker_spec)))
        elif workers > 1:
            command = worker_command(str(node.config_path), http_parser, access_log_path)
            run_event_loop(Supervisor(node, workers, command, announce).serve())
        else:
            run_event_loop(node.serve(announce=announce, http_parser=http_parser,
                                      access_log=access_log, reload=watch))
    except (OSError, NetListenerError, WorkersError) as error:
        click.echo(f"cannot serve: {error}", err=True)
        sys.exit(EXIT_LISTEN)
    finally:
        node.stop()
        if access_log is not None:
            access_log.close()
        _coverage_reports(coverage_xml)
    click.echo("stopped", err=True)


@main.command()
@config_option
@click.option("-d", "--data", help="request body, or @FILE to read it from a file")
@click.option("-H", "--header", "headers", multiple=True, help="'Name: value' (repeatable)")
@coverage_option
@click.argument("method")
@click.argument("target")
def call(config_path: Path | None, data: str | None, headers: tuple[str, ...],
         coverage_xml: Path | None, method: str, target: str) -> None:
    """Run one request through the endpoints with no sockets; print it as curl -i does."""
    body = b""
    if data is not None:
        try:
            body = Path(data[1:]).read_bytes() if data.startswith("@") else data.encode()
        except OSError as error:
            raise click.BadParameter(f"cannot read {data[1:]}: {error.strerror}",
                                     param_hint="-d") from None
    parsed = []
    for header in headers:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected 'Name: value', got {header!r}", param_hint="-H")
        parsed.append((name.strip(), value.strip()))
    names = {name.lower() for name, _ in parsed}
    if "host" not in names:
        parsed.insert(0, ("Host", "localhost"))
    if body and "content-length" not in names:
        parsed.append(("Content-Length", str(len(body))))
    _coverage_starts(coverage_xml)
    node = _started_node(config_path, echo_log=True)
    try:
        response = node.call(Request(method, target, "1.1", parsed, body))
    finally:
        node.stop()
        _coverage_reports(coverage_xml)
    sys.stdout.buffer.write(response.render())
    sys.stdout.buffer.flush()


@main.command()
@config_option
@click.option("-v", "--verbose", is_flag=True,
              help="also list each module's policy hooks and other recorded registrations")
def check(config_path: Path | None, verbose: bool) -> None:
    """Validate the configuration and its scripts (exit 0, or 3 with file:line messages)."""
    node = _started_node(config_path, echo_log=True)
    generation = node.generation
    assert generation is not None
    for note in unused_stanza_notes(generation.config.root):
        click.echo(note, err=True)
    if verbose:
        for line in generation.lua.module_hooks():
            click.echo(f"module {line}", err=True)
        for line in generation.lua.recorded_registrations():
            click.echo(line, err=True)
    node.stop()
    click.echo(f"{node.config_path}: configuration OK", err=True)


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("-I", "include", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="add a directory to package.path (repeatable)")
@click.option("--lua-path", "env_dirs", multiple=True, envvar="MOMENTUM_LUA_PATH",
              show_envvar=True, type=click.Path(file_okay=False, path_type=Path),
              help="directories searched after the -I ones (the variable: colon-separated)")
@click.argument("words", nargs=-1, type=click.UNPROCESSED)
def lua(include: tuple[Path, ...], env_dirs: tuple[Path, ...], words: tuple[str, ...]) -> None:
    """Run a Lua file in the emulated Momentum environment, like thrlua's rclua.

    WORDS as rclua's: [-e STAT | -l NAME]... [FILE | - [ARGS...]].
    """
    try:
        command = parse_command_line(sys.argv[0], words)
    except StandaloneUsageError as error:
        raise click.UsageError(str(error)) from None
    try:
        state = create_lua_environment(
            [*include, *env_dirs, Path(".")],
            print_sink=lambda text: None,  # replaced below
            warn=lambda text: click.echo(text, err=True),
        ).state
    except LuaScriptError as error:  # a lupa without thrLua's conversions (StockLuaVMError)
        click.echo(script_text(error.message), err=True)
        sys.exit(1)
    state.api.print_to_stdout()  # print and io.write share C's stdout, as in rclua

    # As rclua (lua.c) reports: the program's name, then the message (the traceback starts
    # with it); nothing for an error raised with nil.
    program = command.argv[0]
    try:
        asyncio.run(run_command(state, command))
    except OSError as error:
        verb = "read" if isinstance(error, IsADirectoryError) else "open"  # lua.c opens a directory
        click.echo(f"{program}: cannot {verb} {command.script}: {error.strerror}", err=True)
        sys.exit(1)
    except LuaScriptError as error:
        state.api.flush_stdout()
        report = error.traceback or error.message
        if report:
            click.echo(f"{program}: {script_text(report)}", err=True)
        sys.exit(1)
    finally:
        state.api.flush_stdout()


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("endpoint", required=False, default=DEFAULT_CONTROL_SOCKET)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def console(endpoint: str, command: tuple[str, ...]) -> None:
    """Talk to a node's Control_Listener (ENDPOINT: socket path, host:port or [v6]:port).

    With COMMAND words: run it, print the reply. Without, on a terminal: interactive; with
    stdin not a terminal: one command per line.
    """
    sys.exit(console_client.main(endpoint, command))


ec_console_main = console  # the `ec_console` script: the same command, standalone


if __name__ == "__main__":
    main()
