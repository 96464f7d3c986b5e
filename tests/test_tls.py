"""TLS on HTTP listeners (docs/request-lifecycle.md#tls): Use_SSL and TLS_* options, the verified
client-certificate CN (§3.C.6, §10.1 row 11) and TLS_Verified_Peer_Is_Authorized
(§5.8 step 4), over real HTTPS with certificates made by the openssl CLI at test time."""

from __future__ import annotations

import asyncio
import http.client
import logging
import re
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from momentum_httpsrv.cli import EXIT_CONFIG
from momentum_httpsrv.config import parse_config_text
from momentum_httpsrv.httpsrv.listener import HttpListener
from momentum_httpsrv.httpsrv.requests import Request
from momentum_httpsrv.httpsrv.tls import tls_context_for
from momentum_httpsrv.listener_config import listener_settings
from momentum_httpsrv.node import MomentumNode

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")

SERVER_IPS = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"]
EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

# Every TLS listener test runs on asyncio's loop and on uvloop.
pytestmark = pytest.mark.usefixtures("each_event_loop")


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def issue(pki: Path, name: str, subject: str, extensions: str, ca: str = "ca") -> None:
    """``name.pem`` / ``name.key`` signed by ``ca``, with the given v3 extensions."""
    openssl("req", *EC_KEY, "-utf8", "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", subject, cwd=pki)
    (pki / f"{name}.ext").write_text(extensions)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-days", "2", "-out", f"{name}.pem", "-extfile", f"{name}.ext",
            cwd=pki)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway CA, a server certificate for localhost and 127.0.0.1–4 (also as one
    file with its key), client certificates for partner-one and a UTF-8 CN, and one
    partner certificate from a CA the server does not trust."""
    pki = tmp_path_factory.mktemp("pki")
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", *EC_KEY, "-keyout", f"{ca}.key", "-out", f"{ca}.pem",
                "-days", "2", "-subj", f"/CN=Test {ca}", cwd=pki)
    sans = ",".join(["DNS:localhost", *(f"IP:{ip}" for ip in SERVER_IPS)])
    issue(pki, "server", "/CN=localhost", f"subjectAltName={sans}\nextendedKeyUsage=serverAuth\n")
    (pki / "server-with-key.pem").write_bytes(
        (pki / "server.pem").read_bytes() + (pki / "server.key").read_bytes()
    )
    client = "extendedKeyUsage=clientAuth\n"
    issue(pki, "partner", "/O=Partners/CN=partner-one/CN=second-cn", client)
    issue(pki, "zoe", "/CN=Zo\u00eb", client)
    issue(pki, "stranger", "/CN=stranger", client, ca="other-ca")
    return pki


SITE = """
local mod = {}
function mod:rsrc_setup()
  msys.httpsrv.register("GET", "/who", function(session)
    session:response_append("cn=" .. tostring(session:request_subject_cn_get())
      .. " user=" .. tostring(session:request_username_get()))
  end)
  return true
end
msys.registerModule("tlssite", mod)
"""

CONF = """
scriptlet "scriptlet" { script "tlssite" { source = "tlssite" } }
HTTP_Listener {
  Use_SSL = true
  TLS_Certificate = "pki/server-with-key.pem"
  TLS_Client_CA = "pki/ca.pem"
  AuthPlainParameters = [ uri = "file://users.txt" ]
  Listen "127.0.0.1:0" { }
  Listen "127.0.0.2:0" {
    TLS_Verify_Mode = require
    TLS_Certificate = "pki/server.pem"
    TLS_Key = "pki/server.key"
  }
  Listen "127.0.0.3:0" {
    Enable_Authentication = true
    TLS_Verified_Peer_Is_Authorized = true
  }
  Listen "127.0.0.4:0" { TLS_Verify_Mode = none }
}
"""


@pytest.fixture
def node(tmp_path: Path, pki: Path):
    (tmp_path / "pki").symlink_to(pki)
    (tmp_path / "tlssite.lua").write_text(SITE)
    (tmp_path / "users.txt").write_text("alice:s3cret\n")
    (tmp_path / "ecelerity.conf").write_text(CONF)
    node = MomentumNode(tmp_path / "ecelerity.conf")
    node.start()
    yield node
    node.stop()


def client_context(pki: Path, certificate: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    if certificate is not None:
        context.load_cert_chain(str(pki / f"{certificate}.pem"), str(pki / f"{certificate}.key"))
    return context


def fetch(pki: Path, host: str, port: int, certificate: str | None) -> tuple[int, bytes]:
    client = http.client.HTTPSConnection(
        host, port, context=client_context(pki, certificate), timeout=5
    )
    try:
        client.request("GET", "/who")
        reply = client.getresponse()
        return reply.status, reply.read()
    finally:
        client.close()


def serve_and_fetch(node: MomentumNode, pki: Path, calls: list[tuple[str, str | None]]) -> list:
    """Start the node's listeners, make each (host, client certificate) call in turn and
    return its (status, body) or the exception it raised."""

    async def scenario() -> list:
        await node.start_listeners()
        ports = {
            address[0]: address[1]
            for listener in node.listeners
            for address in listener.bound_addresses
        }
        results = []
        try:
            for host, certificate in calls:
                try:
                    results.append(
                        await asyncio.to_thread(fetch, pki, host, ports[host], certificate)
                    )
                except (ssl.SSLError, ConnectionError) as error:
                    results.append(error)
        finally:
            await node.close_listeners()
        return results

    return asyncio.run(asyncio.wait_for(scenario(), 30))


@pytest.mark.parametrize(
    ("host", "certificate", "expected"),
    [
        # TLS_Verify_Mode unset + TLS_Client_CA: a client certificate is optional
        ("127.0.0.1", None, (200, b"cn=nil user=nil")),
        ("127.0.0.1", "partner", (200, b"cn=partner-one user=nil")),  # first CN only
        ("127.0.0.1", "zoe", (200, "cn=Zo\u00eb user=nil".encode())),  # the CN's UTF-8 bytes
        ("127.0.0.2", "partner", (200, b"cn=partner-one user=nil")),  # require, separate key
        # TLS_Verified_Peer_Is_Authorized: the verified CN is the user (§5.8 step 4)
        ("127.0.0.3", "partner", (200, b"cn=partner-one user=partner-one")),
        ("127.0.0.3", None, (401, b"")),
        ("127.0.0.4", "partner", (200, b"cn=nil user=nil")),  # none: a certificate is ignored
    ],
)
def test_client_certificate_cn_and_authorisation(node, pki, host, certificate, expected):
    assert serve_and_fetch(node, pki, [(host, certificate)]) == [expected]


def test_required_certificate_missing_fails_the_handshake_and_serving_goes_on(
    node, pki, caplog
):
    caplog.set_level(logging.WARNING, logger="asyncio")
    missing, untrusted, good = serve_and_fetch(
        node, pki, [("127.0.0.2", None), ("127.0.0.2", "stranger"), ("127.0.0.2", "partner")]
    )
    assert isinstance(missing, ssl.SSLError | ConnectionError), missing
    assert isinstance(untrusted, ssl.SSLError | ConnectionError), untrusted
    assert good == (200, b"cn=partner-one user=nil")
    assert "Traceback" not in node.paniclog.text()
    assert caplog.messages == []  # quiet: no warning per connection from asyncio's TLS


def test_connection_is_https_and_protocols_limit_the_version(pki, tmp_path):
    """A listener-level check: the ConnectionInfo a TLS connection gets, and a
    TLS_Protocols range that leaves TLS 1.2 as the only version."""
    (tmp_path / "pki").symlink_to(pki)
    config = parse_config_text(
        'HTTP_Listener {\n  Listen "127.0.0.1:0" {\n    Use_SSL = true\n'
        '    TLS_Certificate = "pki/server-with-key.pem"\n    TLS_Client_CA = "pki/ca.pem"\n'
        '    TLS_Protocols = "+ALL:-SSLv3:-TLSv1.0:-TLSv1.1:-TLSv1.3"\n  }\n}\n',
        str(tmp_path / "ecelerity.conf"),
    )
    listen = config.root.scope("HTTP_Listener").scopes("Listen")[0]
    seen: list[Request] = []

    async def dispatch(request: Request, sink) -> None:
        seen.append(request)
        sink.start(204, "No Content", [], 0)
        sink.end()

    def handshake(port: int) -> str | None:
        context = client_context(pki, "partner")
        with (
            ssl.create_connection(("127.0.0.1", port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert tls.recv(100).startswith(b"HTTP/1.1 204")
            return tls.version()

    async def scenario() -> str | None:
        listener = HttpListener("127.0.0.1:0", dispatch, listener_settings(config, listen))
        await listener.start()
        try:
            return await asyncio.to_thread(handshake, listener.bound_addresses[0][1])
        finally:
            await listener.close(grace=1.0)

    assert asyncio.run(asyncio.wait_for(scenario(), 30)) == "TLSv1.2"
    assert (seen[0].connection.scheme, seen[0].connection.subject_cn) == ("https", "partner-one")


@pytest.mark.parametrize(
    ("protocols", "expected"),
    [
        ("+ALL:-SSLv3:-TLSv1.0:-TLSv1.1", (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)),
        ("-ALL:+TLSv1.3", (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3)),
        ("TLSv1.1:TLSv1.2:+SSLv2", (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_2)),
    ],
)
def test_protocols_become_a_version_range(pki, tmp_path, protocols, expected):
    config = parse_config_text(
        f'Use_SSL = true\nTLS_Certificate = "{pki}/server-with-key.pem"\n'
        f'TLS_Protocols = "{protocols}"\nHTTP_Listener {{ Listen "127.0.0.1:0" {{ }} }}\n',
        str(tmp_path / "ecelerity.conf"),
    )
    listen = config.root.scope("HTTP_Listener").scopes("Listen")[0]
    context = tls_context_for(config, listen)  # TLS_* from the global scope apply too
    assert context is not None
    assert (context.minimum_version, context.maximum_version) == expected
    assert context.verify_mode == ssl.CERT_NONE  # no TLS_Client_CA: nothing to verify


@pytest.mark.parametrize(("allow", "refused"), [("true", False), ("false", True)])
def test_renegotiation_can_be_refused(pki, tmp_path, allow, refused):
    config = parse_config_text(
        f'HTTP_Listener {{ Listen "127.0.0.1:0" {{ Use_SSL = true\n'
        f'  TLS_Certificate = "{pki}/server-with-key.pem"\n'
        f"  TLS_Allow_Renegotiation = {allow} }} }}\n",
        str(tmp_path / "ecelerity.conf"),
    )
    context = tls_context_for(config, config.root.scope("HTTP_Listener").scopes("Listen")[0])
    assert context is not None
    assert bool(context.options & ssl.OP_NO_RENEGOTIATION) is refused


SCRIPTLESS = 'scriptlet "scriptlet" { script "boot" { source = "msys.boot" } }\n'


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ('TLS_Certificate = "missing.pem"', r":4:\d+: TLS_Certificate '.*missing\.pem': No such"),
        ("", r":3:\d+: Use_SSL = true needs TLS_Certificate"),
        ('TLS_Certificate = "pki/server-with-key.pem"\n    TLS_Client_CA = "pki/nope.pem"',
         r":5:\d+: TLS_Client_CA '.*nope\.pem'"),
        ('TLS_Certificate = "pki/server.pem"\n    TLS_Key = "pki/partner.key"',
         r":5:\d+: TLS_Key '.*partner\.key': the key does not match"),
        ('TLS_Certificate = "pki/server-with-key.pem"\n    TLS_Verify_Mode = sometimes',
         r":5:\d+: TLS_Verify_Mode 'sometimes'"),
        ('TLS_Certificate = "pki/server-with-key.pem"\n    TLS_Verify_Mode = require',
         r":5:\d+: TLS_Verify_Mode = require needs TLS_Client_CA"),
        ('TLS_Certificate = "pki/server-with-key.pem"\n    TLS_Protocols = "+ALL:-TLSv1.5"',
         r":5:\d+: TLS_Protocols: unknown protocol '-TLSv1\.5'"),
        ('TLS_Certificate = "pki/server-with-key.pem"\n    TLS_Protocols = "-ALL:+SSLv3"',
         r":5:\d+: TLS_Protocols '-ALL:\+SSLv3' enables no TLS version"),
        ('TLS_Certificate = "pki/server-with-key.pem"\n    TLS_Protocols = "TLSv1.1:TLSv1.3"',
         r":5:\d+: .*contiguous range"),
        ('TLS_Certificate = "pki/server-with-key.pem"\n    TLS_Ciphers = "NO-SUCH-CIPHER"',
         r":5:\d+: TLS_Ciphers 'NO-SUCH-CIPHER' selects no cipher"),
    ],
)
def test_check_reports_unusable_tls_options_at_their_location(
    pki, tmp_path, run_check, options, expected
):
    (tmp_path / "pki").symlink_to(pki)
    result = run_check(
        f'HTTP_Listener {{\n  Listen "127.0.0.1:0" {{\n    Use_SSL = true\n    {options}\n'
        f"  }}\n}}\n{SCRIPTLESS}"
    )
    assert result.exit_code == EXIT_CONFIG, result.output
    assert re.search(r"ecelerity\.conf" + expected, result.stderr), result.stderr
    assert "Traceback" not in result.stderr
