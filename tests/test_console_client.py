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


@pytest.mark.parametrize("endpoint", ["ctl.sock", "run/ctl.sock", "./ctl.sock"])
def test_a_relative_socket_path_is_a_unix_socket(tmp_path, monkeypatch, endpoint):
    """`ec_console ctl.sock cmd` from the site's directory: no ':port', so not host:port."""
    import socket

    from momentum_httpsrv.console.client import connect

    (tmp_path / "run").mkdir()
    monkeypatch.chdir(tmp_path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(endpoint)
        server.listen(1)
        connection = connect(endpoint)
        accepted, _ = server.accept()
        with accepted:
            connection.close()
            assert accepted.recv(1) == b""  # the client's end, now closed


@pytest.mark.parametrize("endpoint", ["127.0.0.1:x", "127.0.0.1:", "[::1]"])
def test_an_endpoint_with_a_colon_is_host_port_and_checked(endpoint):
    from momentum_httpsrv.console.client import EndpointError, connect

    with pytest.raises(EndpointError):
        connect(endpoint)
