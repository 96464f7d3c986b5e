"""How `ec_console ENDPOINT WORD…` turns shell arguments into one console line."""

import pytest

from momentum_httpsrv.console.client import command_line
from momentum_httpsrv.console.protocol import split_command


@pytest.mark.parametrize(
    ("argv", "line", "words"),
    [
        (["config reload"], "config reload", ["config", "reload"]),
        (["config", "reload"], "config reload", ["config", "reload"]),
        (["delay_domain", "example.com"], "delay_domain example.com",
         ["delay_domain", "example.com"]),
        (["delay_domain", "my domain"], 'delay_domain "my domain"',
         ["delay_domain", "my domain"]),
        (["scriptlet", "eval", 'print("a b")'], 'scriptlet eval print("a b")', None),
        (['scriptlet eval print("a b")'], 'scriptlet eval print("a b")', None),
    ],
)
def test_command_line(argv, line, words):
    assert command_line(argv) == line
    if words is not None:
        assert [word.text for word in split_command(line)] == words


def test_scriptlet_eval_gets_the_lua_as_typed(tmp_path):
    from momentum_httpsrv.node import MomentumNode

    config = tmp_path / "ecelerity.conf"
    config.write_text('scriptlet "scriptlet" { script "boot" { source = "msys.boot" } }\n')
    node = MomentumNode(config)
    node.start()
    try:
        reply = node.console(command_line(["scriptlet", "eval", 'print("a b")']))
    finally:
        node.stop()
    assert reply.strip() == "a b"
