"""Interactive ec_console through a pseudo-terminal: banner, prompt, history, completion."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect
from test_console_server import control_site


def test_interactive_console(tmp_path: Path) -> None:
    config, socket_path = control_site(tmp_path)
    server = subprocess.Popen(
        [sys.executable, "-m", "momentum_httpsrv.cli", "serve", "-c", str(config)],
        stderr=subprocess.PIPE, text=True,
    )
    try:
        while "Control_Listener" not in (line := server.stderr.readline()):
            assert line, "serve exited early"
        child = pexpect.spawn(
            sys.executable, ["-m", "momentum_httpsrv.cli", "console", str(socket_path)],
            env={**os.environ, "TERM": "vt100", "INPUTRC": "/dev/null"},
            encoding="latin-1", timeout=20,
        )
        prompt = re.compile(r"\d\d:\d\d:\d\d " + re.escape(str(socket_path)) + "> ")
        child.expect("# ecelerity version: .*momentum-httpsrv")
        child.expect(prompt)
        child.sendline("delay_domain example.com")
        child.expect("example.com\tadded to the delayed queue.")
        child.expect(prompt)
        child.send("\x10\r")  # ^P: the previous line from history, run again
        child.expect(r"delay_domain example.com\r\n")
        child.expect("added to the delayed queue.")
        child.expect(prompt)
        child.send("delaye\t")  # completes the unique command name
        child.expect("delayed ")
        child.send("\r")
        child.expect(r"Domain: +example.com  C: +0  A: +0  D: +2")
        child.expect(prompt)
        child.send("scriptlet ev\t")  # the second word of a built-in completes too
        child.expect("scriptlet eval ")
        child.send("6 * 7\r")
        child.expect(r"\r\n42\r\n")
        child.expect(prompt)
        child.sendline("quit")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
    finally:
        server.terminate()
        server.wait(10)
