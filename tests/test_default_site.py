"""The default site that `make run` serves answers what the README shows."""

import http.client
import re
import shutil
import subprocess
import sys
from pathlib import Path

from momentum_httpsrv.testing.client import MomentumTestClient
from momentum_httpsrv.testing.process import serve_process

DEFAULT_CONF = Path(__file__).resolve().parent.parent / "conf" / "ecelerity.conf"


def test_readme_examples():
    with MomentumTestClient(DEFAULT_CONF) as site:
        hello = site.post("/hello")
        params = site.get("/params?b=2&a=1")
        assert site.get("/hello").status == 404  # only POST is registered
        console = site.node.console
        usage = console("delay_domain")
        delayed = console("delay_domain example.com")
        listed = console("delayed")
    assert usage.strip() == "usage: delay_domain <domain>"
    assert delayed.strip() == "example.com\tadded to the delayed queue."
    assert "example.com" in listed
    assert (hello.status, hello.body) == (200, b"/hello says: Hello world!")
    assert (params.status, params.body) == (200, b"a=1\nb=2\n")


def test_default_site_over_real_http(tmp_path):
    """`make run` serves conf/ecelerity.conf; the same files on ephemeral ports answer the
    README's curl line over real HTTP, and its console command over the control socket."""
    site = tmp_path / "conf"
    shutil.copytree(DEFAULT_CONF.parent, site, ignore=shutil.ignore_patterns("paniclog.ec"))
    config = site / "ecelerity.conf"
    socket_path = tmp_path / "console.sock"
    config.write_text(
        config.read_text()
        .replace('Listen "127.0.0.1:2081"', 'Listen "127.0.0.1:0"')
        .replace('Listen "127.0.0.1:2025" {}', f'Listen "{socket_path}" {{}}')
    )
    with serve_process(config) as (_, port):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("POST", "/hello")
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"/hello says: Hello world!")
        connection.close()
        console = subprocess.run(
            [sys.executable, "-m", "momentum_httpsrv", "console", str(socket_path),
             "delay_domain", "example.com"],
            capture_output=True, text=True, timeout=30,
        )
    assert console.stdout == "example.com\tadded to the delayed queue.\n", console.stderr


def test_readme_console_examples_use_an_address_the_default_site_listens_on():
    from momentum_httpsrv.config import load_config

    readme = (DEFAULT_CONF.parents[1] / "README.md").read_text()
    config = load_config(DEFAULT_CONF)
    listening = {listen.name for control in config.root.scopes("control_listener")
                 for listen in control.scopes("listen")}
    endpoints = re.findall(r"ec_console (/\S+|\[?[\w.:]+\]?:\d+)", readme)
    assert endpoints and set(endpoints) <= listening, (endpoints, listening)
