"""A NUL byte can be in no path, name or URI: every configured one is refused with
file:line:col by check and by serve (exit 3), before anything opens a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from momentum_httpsrv.cli import EXIT_CONFIG, main

CONFIGS = {
    "paniclog": 'ec_logger { paniclog = "/tmp/pan\0iclog" }\n',
    "unix-listen": 'HTTP_Listener { Listen "/tmp/so\0ck" {} }\n',
    "tls-certificate": (
        'HTTP_Listener { Use_SSL = true TLS_Certificate = "/tmp/c\0rt" TLS_Key = "/tmp/k"\n'
        '  Listen "127.0.0.1:0" {} }\n'
    ),
    "auth-store-uri": (
        "HTTP_Listener { Enable_Authentication = true\n"
        '  AuthPlainParameters = [ uri = "file:///tmp/us\0ers" ] Listen "127.0.0.1:0" {} }\n'
    ),
    "script-source": 'scriptlet "scriptlet" { script "x" { source = "si\0te" } }\n',
    "control-listen": 'Control_Listener { Listen "/tmp/ct\0l" {} }\n',
    "bare-word": "HTTP_Listener { Listen 127.0.0.1:0 { Idle_Time = 3\0 } }\n",
}


@pytest.mark.parametrize("command", ["check", "serve"])
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_a_nul_byte_is_a_located_config_error(tmp_path: Path, name: str, command: str):
    config = tmp_path / "ecelerity.conf"
    config.write_text(CONFIGS[name])
    line, _, rest = CONFIGS[name].partition("\0")
    line_number = line.count("\n") + 1
    column = len(line.rsplit("\n", 1)[-1]) + 1
    result = CliRunner().invoke(main, [command, "-c", str(config)])
    assert result.exit_code == EXIT_CONFIG
    assert f"ecelerity.conf:{line_number}:{column}: a NUL byte is not allowed here" in (
        result.output
    )
    assert "Traceback" not in result.output
