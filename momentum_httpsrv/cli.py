"""Command line: ``momentum-httpsrv serve | call | check | lua``."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import click

from .config import ConfigError
from .console import client as console_client
from .console.server import DEFAULT_CONTROL_SOCKET, ControlListenerError
from .httpsrv.listener import PARSERS, run_event_loop
from .httpsrv.requests import Request
from .lua.runtime import LuaScriptError
from .node import GenerationError, MomentumNode, create_lua_environment
from .workers import Supervisor, WorkerChannel, WorkersError, worker_command

DEFAULT_CONFIG = "conf/ecelerity.conf"
config_option = click.option(
    "-c", "--config", "config_path", default=DEFAULT_CONFIG, show_default=True,
    type=click.Path(dir_okay=False, path_type=Path), help="ecelerity.conf to load",
)


def _started_node(config_path: Path, echo_log: bool) -> MomentumNode:
    """A node with its configuration applied, or exit 2 with the reason (file:line…)."""
    node = MomentumNode(config_path, echo_log=_echo_log if echo_log else None)
    try:
        node.start()
    except GenerationError:  # the node logged why, and the log is echoed to stderr
        node.stop()
        sys.exit(2)
    except (ConfigError, LuaScriptError, OSError) as error:
        click.echo(str(error), err=True)
        node.stop()
        sys.exit(2)
    return node


def _echo_log(level: str, text: str) -> None:
    if level != "info":
        click.echo(f"{level}: {text}", err=True)


@click.group()
@click.version_option(package_name="momentum-httpsrv")
def main() -> None:
    """Run Momentum Lua HTTP endpoints and console commands outside Momentum."""


@main.command()
@config_option
@click.option("--http-parser", type=click.Choice(sorted(PARSERS)), default="httptools",
              show_default=True, help="HTTP/1.1 parser: httptools (llhttp), or h11 (the reference)")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="processes sharing each HTTP listener (SO_REUSEPORT), each its own Lua state")
@click.option("--worker-spec", hidden=True, help="set by serve --workers for its workers")
def serve(config_path: Path, http_parser: str, workers: int, worker_spec: str | None) -> None:
    """Serve the configuration's HTTP listeners until SIGINT or SIGTERM."""
    node = _started_node(config_path, echo_log=True)
    announce = lambda text: click.echo(text, err=True)  # noqa: E731
    try:
        if worker_spec is not None:
            run_event_loop(node.serve(announce=lambda text: None, http_parser=http_parser,
                                      worker=WorkerChannel(worker_spec)))
        elif workers > 1:
            supervisor = Supervisor(
                node, workers, worker_command(str(config_path), http_parser), announce
            )
            run_event_loop(supervisor.serve())
        else:
            run_event_loop(node.serve(announce=announce, http_parser=http_parser))
    except (OSError, ControlListenerError, WorkersError) as error:
        click.echo(f"cannot serve: {error}", err=True)
        sys.exit(2)
    finally:
        node.stop()


@main.command()
@config_option
@click.option("-d", "--data", help="request body, or @FILE to read it from a file")
@click.option("-H", "--header", "headers", multiple=True, help="'Name: value' (repeatable)")
@click.argument("method")
@click.argument("target")
def call(config_path: Path, data: str | None, headers: tuple[str, ...], method: str,
         target: str) -> None:
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
    node = _started_node(config_path, echo_log=True)
    try:
        response = node.call(Request(method, target, "1.1", parsed, body))
    finally:
        node.stop()
    sys.stdout.buffer.write(response.render())
    sys.stdout.buffer.flush()


@main.command()
@config_option
def check(config_path: Path) -> None:
    """Validate the configuration and its scripts (exit 0, or 2 with file:line messages)."""
    node = _started_node(config_path, echo_log=True)
    node.stop()
    click.echo(f"{config_path}: configuration OK", err=True)


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("-I", "include", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="add a directory to package.path (repeatable)")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def lua(include: tuple[Path, ...], file: str, args: tuple[str, ...]) -> None:
    """Run a Lua file in the emulated Momentum environment, like thrlua's rclua."""
    env_dirs = [Path(d) for d in os.environ.get("MOMENTUM_LUA_PATH", "").split(os.pathsep) if d]
    out = sys.stdout.buffer

    def print_line(text: str) -> None:
        out.write(text.encode("latin-1") + b"\n")

    state, _ = create_lua_environment(
        [*include, *env_dirs, Path(".")],
        print_sink=print_line,
        warn=lambda text: click.echo(text, err=True),
    )
    state.lua.globals().arg = state.lua.table_from({0: file, **dict(enumerate(args, 1))})
    try:
        chunk = state.compile(Path(file).read_bytes().decode("latin-1"), "@" + file)
        asyncio.run(state.run_in_task(chunk, *args))
    except OSError as error:
        click.echo(f"cannot open {file}: {error.strerror}", err=True)
        sys.exit(1)
    except LuaScriptError as error:
        out.flush()
        click.echo(error.traceback or error.message, err=True)  # the traceback starts with it
        sys.exit(1)
    finally:
        out.flush()


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
