"""The default site that `make run` serves answers what the README shows."""

from pathlib import Path

from momentum_httpsrv.testing.client import MomentumTestClient

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
