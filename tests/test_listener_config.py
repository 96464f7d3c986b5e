"""Listener options and addresses are checked when a configuration is applied: `check`
reports them at file:line:col instead of `serve` failing later."""

import re

import pytest

from momentum_httpsrv.cli import EXIT_CONFIG

SCRIPTLESS = 'scriptlet "scriptlet" { script "boot" { source = "msys.boot" } }\n'


@pytest.mark.parametrize(
    ("stanza", "expected"),
    [
        ('HTTP_Listener {\n  Max_Request_Size = "abc"\n  Listen "127.0.0.1:0" {}\n}\n',
         r"ecelerity\.conf:2:\d+: .*abc"),
        ('HTTP_Listener {\n  Listen "127.0.0.1:0" {\n    Idle_Time = 1.5.5\n  }\n}\n',
         r"ecelerity\.conf:3:\d+: "),
        ('HTTP_Listener {\n  Disable_Chunked = maybe\n  Listen "127.0.0.1:0" {}\n}\n',
         r"ecelerity\.conf:2:\d+: .*maybe"),
        ('HTTP_Listener {\n  Max_Request_Size = -5\n  Listen "127.0.0.1:0" {}\n}\n',
         r"ecelerity\.conf:2:\d+: Max_Request_Size must be 0 or more"),
        ('HTTP_Listener {\n  Listen "127.0.0.1:x" {}\n}\n',
         r"ecelerity\.conf:2:\d+: Listen '127\.0\.0\.1:x'"),
        ('HTTP_Listener {\n  Listen "999.1.1.1:80" {}\n}\n', r"ecelerity\.conf:2:\d+: Listen '999"),
        ('Control_Listener {\n  Listen ":2025" {}\n}\n',
         r"ecelerity\.conf:2:\d+: Control_Listener ':2025': the console has no authentication"),
        ('Control_Listener {\n  Listen "10.1.2.3:2025" {}\n}\n',
         r"ecelerity\.conf:2:\d+: Control_Listener '10\.1\.2\.3:2025'"),
    ],
)
def test_check_rejects_unusable_listener_settings(run_check, stanza, expected):
    result = run_check(stanza + SCRIPTLESS)
    assert result.exit_code == EXIT_CONFIG, result.output
    assert re.search(expected, result.stderr), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "stanza",
    [
        'HTTP_Listener {\n  Max_Request_Size = 0\n  Listen "127.0.0.1:0" {}\n}\n',
        'Control_Listener {\n  Listen "127.0.0.1:0" {}\n  Listen "[::1]:0" {}\n}\n',
        'Control_Listener {\n  Listen "/tmp/some.sock" { File_Mode = 0640 }\n}\n',
    ],
)
def test_check_accepts_usable_listener_settings(run_check, stanza):
    result = run_check(stanza + SCRIPTLESS)
    assert result.exit_code == 0, result.stderr


def test_control_socket_mode_defaults_to_0600_unless_written(tmp_path):
    from momentum_httpsrv.config import parse_config_text
    from momentum_httpsrv.console.server import control_listen_specs

    config = parse_config_text(
        'Control_Listener {\n  Listen "/tmp/a.sock" {}\n'
        '  Listen "/tmp/b.sock" { File_Mode = 0640 }\n}\n',
        "x.conf",
    )
    assert [spec.file_mode for spec in control_listen_specs(config)] == [0o600, 0o640]
