"""Option resolution per connection and the IP ACL (docs/request-lifecycle.md:
option resolution, access control and authentication)."""

import re

import pytest
from click.testing import CliRunner

from momentum_httpsrv.cli import EXIT_CONFIG, main
from momentum_httpsrv.config import parse_config_text
from momentum_httpsrv.httpsrv.access import ScopeResolver, effective_scopes
from momentum_httpsrv.httpsrv.requests import ConnectionInfo, Request
from momentum_httpsrv.node import MomentumNode

RESOLUTION_CONF = """
HTTP_Listener {
  Idle_Time = 1
  Peer "10.0.0.0/8" { Idle_Time = 2 }
  Peer "10.1.0.0/16" { Idle_Time = 3 }
  Peer "[2001:db8::]/32" { Idle_Time = 7 }
  Listen ":2081" {
    Idle_Time = 4
    Peer "10.1.2.0/24" { Idle_Time = 5 }
    Peer "10.1.2.3" { Idle_Time = 6 }
  }
  Listen ":2082" { }
  Listen ":2083" { Peer "10.0.0.0/8" { Max_Request_Size = 9 } }
}
"""


@pytest.mark.parametrize(
    ("listener", "peer", "expected"),
    [
        (":2081", "10.1.2.3", 6),  # the host Peer in the Listen beats the /24 there
        (":2081", "10.1.2.4", 5),  # a Peer in the Listen beats the listener's Peers
        (":2081", "10.1.9.9", 3),  # the listener's most specific Peer, /16 over /8
        (":2081", "10.9.9.9", 2),
        (":2081", "192.0.2.1", 4),  # no Peer matches: the Listen
        (":2081", "::ffff:10.1.2.3", 6),  # IPv4-mapped IPv6 counts as IPv4
        (":2082", "192.0.2.1", 1),  # Listen without the option: the HTTP_Listener
        (":2082", "2001:db8::5", 7),
        (":2083", "10.1.2.3", 3),  # a Listen Peer without the option falls through
        ("offline", None, 1),  # no configured Listen: the HTTP_Listener alone
    ],
)
def test_most_specific_scope_sets_the_option(listener, peer, expected):
    root = parse_config_text(RESOLUTION_CONF).root
    assert effective_scopes(root, listener, peer).option("Idle_Time").as_int() == expected


def test_resolution_without_any_listener_is_the_default():
    root = parse_config_text("").root
    assert effective_scopes(root, ":2081", "10.0.0.1").get_bool("Always_Deny", False) is False


def test_resolver_caches_per_listener_and_peer():
    root = parse_config_text(RESOLUTION_CONF).root
    resolver = ScopeResolver(root)
    first = resolver.resolve(":2081", "10.1.2.3")
    root.scope("HTTP_Listener").scope("Listen", ":2081").scope("Peer", "10.1.2.3").unset_option(
        "Idle_Time"
    )
    assert resolver.resolve(":2081", "10.1.2.3") is first
    # One Peer is chosen per level: without the option the host Peer falls back to the
    # listener's Peer, not to the Listen's /24 (docs/request-lifecycle.md#option-resolution).
    assert ScopeResolver(root).resolve(":2081", "10.1.2.3").option("Idle_Time").as_int() == 3


def test_resolver_keeps_only_the_most_recent_peers():
    root = parse_config_text(RESOLUTION_CONF).root
    resolver = ScopeResolver(root, max_entries=8)
    kept = resolver.resolve(":2081", "10.1.2.3")
    for host in range(1, 200):
        resolver.resolve(":2081", f"192.0.2.{host}")
        assert resolver.resolve(":2081", "10.1.2.3") is kept  # recently used: not dropped
    assert len(resolver) == 8
    # An evicted pair is resolved again, with the same answer as before.
    assert resolver.resolve(":2081", "192.0.2.1").option("Idle_Time").as_int() == 4
    assert resolver.resolve(":2081", "10.9.9.9").option("Idle_Time").as_int() == 2
    assert len(resolver) == 8


def test_invalid_peer_name_is_reported_and_skipped():
    root = parse_config_text('HTTP_Listener { Peer "nowhere" { Always_Deny = true } }').root
    warnings = []
    scopes = effective_scopes(root, "offline", "10.0.0.1", warnings.append)
    assert scopes.get_bool("Always_Deny", False) is False
    assert warnings and "nowhere" in warnings[0]


ACL_SCRIPT = """
local mod = {}
function mod:rsrc_setup()
  msys.httpsrv.register("GET", "/who", function(session)
    session:response_append("user=" .. tostring(session:request_username_get()))
  end)
  return true
end
msys.registerModule("acl", mod)
"""

ACL_CONF = """
scriptlet "scriptlet" { script "acl" { source = "acl" } }
HTTP_Listener {
  Always_Deny = true
  Peer "10.20.0.0/16" { Always_Deny = false }
  Listen ":2081" {
    Peer "10.20.30.40" { Always_Deny = true }
    Peer "192.0.2.7" { Always_Deny = false  Always_Allow = true  Enable_Authentication = true }
    Peer "192.0.2.8" { Always_Deny = false  Enable_Authentication = true }
  }
}
"""


@pytest.fixture
def acl_node(tmp_path):
    (tmp_path / "acl.lua").write_text(ACL_SCRIPT)
    (tmp_path / "ecelerity.conf").write_text(ACL_CONF)
    node = MomentumNode(tmp_path / "ecelerity.conf")
    node.start()
    yield node
    node.stop()


def from_peer(ip: str, listener: str = ":2081") -> Request:
    connection = ConnectionInfo(conn_id=1, listener=listener, peer=(ip, 40000))
    return Request("GET", "/who", connection=connection)


@pytest.mark.parametrize(
    ("ip", "status", "body"),
    [
        ("10.20.1.1", 200, b"user=nil"),  # allowed network
        ("10.20.30.40", 403, b""),  # one host denied again inside the Listen
        ("10.99.0.1", 403, b""),  # the listener-wide deny
        ("192.0.2.7", 200, b"user=nil"),  # Always_Allow bypasses authentication, no user
        ("192.0.2.8", 401, b""),  # authentication on, no mechanism: refused
    ],
)
def test_ip_access_control(acl_node, ip, status, body):
    response = acl_node.call(from_peer(ip))
    assert (response.status, response.body) == (status, body)


def test_denied_peer_gets_403_denied_and_close(acl_node):
    response = acl_node.call(from_peer("10.99.0.1"))
    assert (response.status, response.reason) == (403, "DENIED")
    assert response.header("Connection") == "close"


def test_console_change_applies_to_the_next_request(acl_node):
    assert acl_node.call(from_peer("10.99.0.1")).status == 403
    reply = acl_node.console("config set HTTP_Listener Always_Deny = false")
    assert reply == "Always_Deny = false\n"
    assert acl_node.call(from_peer("10.99.0.1")).status == 200


SCRIPTLESS = 'scriptlet "scriptlet" { script "boot" { source = "msys.boot" } }\n'


@pytest.mark.parametrize(
    ("stanza", "expected"),
    [
        ('HTTP_Listener {\n  Always_Deny = maybe\n  Listen "127.0.0.1:0" {}\n}\n',
         r"ecelerity\.conf:2:\d+: option 'Always_Deny': .*maybe"),
        ('HTTP_Listener {\n  Listen "127.0.0.1:0" {\n    Enable_Authentication = maybe\n  }\n}\n',
         r"ecelerity\.conf:3:\d+: option 'Enable_Authentication': .*maybe"),
        ('HTTP_Listener {\n  Listen "127.0.0.1:0" {\n    Peer "10.0.0.0/8" {\n'
         '      AuthPlainParameters = 5\n    }\n  }\n}\n',
         r"ecelerity\.conf:4:\d+: option 'AuthPlainParameters': .*parameter block"),
        ('HTTP_Listener {\n  Peer "10.0.0.0/8" {\n    TLS_Verified_Peer_Is_Authorized = maybe\n'
         '  }\n  Listen "127.0.0.1:0" {}\n}\n',
         r"ecelerity\.conf:3:\d+: option 'TLS_Verified_Peer_Is_Authorized': .*maybe"),
        ('HTTP_Listener {\n  Always_Allow = 2\n}\n',
         r"ecelerity\.conf:2:\d+: option 'Always_Allow'"),
        ('HTTP_Listener {\n  AuthDigestMD5Parameters = "digest://x"\n}\n',
         r"ecelerity\.conf:2:\d+: option 'AuthDigestMD5Parameters': .*parameter block"),
    ],
)
def test_check_rejects_unusable_access_options(run_check, stanza, expected):
    result = run_check(stanza + SCRIPTLESS)
    assert result.exit_code == EXIT_CONFIG, result.output
    assert re.search(expected, result.stderr), result.stderr
    assert "Traceback" not in result.stderr


def test_call_reports_an_unusable_access_option_without_a_traceback(tmp_path):
    (tmp_path / "ecelerity.conf").write_text(
        'HTTP_Listener {\n  Always_Deny = maybe\n}\n' + SCRIPTLESS
    )
    result = CliRunner().invoke(main, ["call", "-c", str(tmp_path / "ecelerity.conf"), "GET", "/"])
    assert result.exit_code == EXIT_CONFIG, result.output
    assert re.search(r"ecelerity\.conf:2:\d+: option 'Always_Deny'", result.stderr)
    assert "Traceback" not in result.stderr


def test_check_accepts_usable_access_options(run_check):
    result = run_check(ACL_CONF.replace('"acl"', '"msys.boot"'))
    assert result.exit_code == 0, result.stderr
