"""Authentication before dispatch, register_auth and request_username_get
(docs/request-lifecycle.md#access-control-and-authentication): offline through
MomentumNode.handle and once over HTTP."""

import asyncio
import base64
import hashlib
import http.client
import time

import pytest

from momentum_httpsrv.httpsrv.auth import parse_auth_params
from momentum_httpsrv.httpsrv.requests import ConnectionInfo, Request
from momentum_httpsrv.node import MomentumNode

SCRIPT = """
local mod = {}
local function who(session)
  session:response_append("user=" .. tostring(session:request_username_get()))
end
function mod:rsrc_setup()
  msys.httpsrv.register("GET", "/who", who)
  msys.httpsrv.register("GET", "/hooked", who)
  msys.httpsrv.register_auth("GET", "/hooked", function(session)
    local token = session:request_header_get("X-Token")
    if token == "good" then return msys.core.EC_AUTH_OK, "token-user" end
    if token == "slow" then
      msys.sleep(0.01)
      return msys.core.EC_AUTH_OK, "slow-user"
    end
    if token == "broken" then return msys.core.EC_AUTH_ERROR end
    if token == "raise" then error("auth script failed") end
    return msys.core.EC_AUTH_FAIL
  end)
  return true
end
msys.registerModule("authsite", mod)
"""

CONF = """
scriptlet "scriptlet" { script "authsite" { source = "authsite" } }
HTTP_Listener {
  Enable_Authentication = true
  AuthPlainParameters = [ uri = "file://users.txt" realm = "plain realm" ]
  Listen "127.0.0.1:0" { }
  Listen ":2090" {
    AuthDigestMD5Parameters = [ uri = "digest://htdigest.txt" realm = "api" ]
  }
  Listen ":2091" {
    Peer "192.0.2.0/24" { Enable_Authentication = false }
  }
}
"""

USERS = "# comment line\nalice:s3cret\nbob:pa:ss\n"
HTDIGEST = "carol:api:" + hashlib.md5(b"carol:api:wonder").hexdigest() + "\n"


@pytest.fixture
def node(tmp_path):
    (tmp_path / "authsite.lua").write_text(SCRIPT)
    (tmp_path / "users.txt").write_text(USERS)
    (tmp_path / "htdigest.txt").write_text(HTDIGEST)
    (tmp_path / "ecelerity.conf").write_text(CONF)
    node = MomentumNode(tmp_path / "ecelerity.conf")
    node.start()
    yield node
    node.stop()


def request(path="/who", headers=(), listener=":2091", peer="198.51.100.1", method="GET"):
    connection = ConnectionInfo(conn_id=1, listener=listener, peer=(peer, 40000))
    return Request(method, path, headers=list(headers), connection=connection)


def basic(user_password: str) -> tuple[str, str]:
    return ("Authorization", "Basic " + base64.b64encode(user_password.encode()).decode())


@pytest.mark.parametrize(
    ("headers", "status", "body"),
    [
        ([basic("alice:s3cret")], 200, b"user=alice"),
        ([basic("bob:pa:ss")], 200, b"user=bob"),  # the password runs to the line end
        ([basic("alice:wrong")], 401, b""),
        ([basic("mallory:s3cret")], 401, b""),
        ([basic("# comment line:")], 401, b""),
        ([("Authorization", "Basic !!notbase64")], 401, b""),
        ([("Authorization", "Digest username=alice")], 401, b""),  # not configured here
        ([], 401, b""),
    ],
)
def test_basic_authentication(node, headers, status, body):
    response = node.call(request(headers=headers))
    assert (response.status, response.body) == (status, body)


def test_401_challenges_for_basic(node):
    response = node.call(request())
    assert [v for k, v in response.headers if k == "WWW-Authenticate"] == [
        'Basic realm="plain realm"'
    ]


def test_peer_scope_turns_authentication_off_without_a_user(node):
    response = node.call(request(peer="192.0.2.9"))
    assert (response.status, response.body) == (200, b"user=nil")


def test_credentials_file_is_reread_when_it_changes(node, tmp_path):
    (tmp_path / "users.txt").write_text("alice:changed-password-here\n")
    assert node.call(request(headers=[basic("alice:s3cret")])).status == 401
    assert node.call(request(headers=[basic("alice:changed-password-here")])).status == 200


def test_missing_credentials_file_is_an_error(node, tmp_path):
    (tmp_path / "users.txt").unlink()
    response = node.call(request(headers=[basic("alice:s3cret")]))
    assert (response.status, response.reason) == (500, "ERROR")
    assert "users.txt" in node.paniclog.text()


# -- Digest ------------------------------------------------------------------------------


def digest_header(
    challenge: str, user: str, password: str, uri: str = "/who", method="GET", nc="00000001",
    cnonce="0a4f113b",
):
    fields = parse_auth_params(challenge.removeprefix("Digest "))
    ha1 = hashlib.md5(f"{user}:{fields['realm']}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    response = hashlib.md5(
        f"{ha1}:{fields['nonce']}:{nc}:{cnonce}:auth:{ha2}".encode()
    ).hexdigest()
    return (
        "Authorization",
        f'Digest username="{user}", realm="{fields["realm"]}", nonce="{fields["nonce"]}", '
        f'uri="{uri}", qop=auth, nc={nc}, cnonce="{cnonce}", response="{response}", '
        "algorithm=MD5",
    )


def digest_challenge(node) -> str:
    response = node.call(request(listener=":2090"))
    assert response.status == 401
    challenges = [v for k, v in response.headers if k == "WWW-Authenticate"]
    assert challenges[1] == 'Basic realm="plain realm"'  # one per mechanism, Digest first
    assert challenges[0].startswith('Digest realm="api", nonce="')
    assert 'qop="auth"' in challenges[0] and "algorithm=MD5" in challenges[0]
    return challenges[0]


def test_digest_authentication(node):
    header = digest_header(digest_challenge(node), "carol", "wonder")
    response = node.call(request(listener=":2090", headers=[header]))
    assert (response.status, response.body) == (200, b"user=carol")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda challenge: digest_header(challenge, "carol", "wrong"),
        lambda challenge: digest_header(challenge, "dave", "wonder"),
        lambda challenge: digest_header(
            challenge.replace('nonce="', 'nonce="1'), "carol", "wonder"
        ),
        lambda challenge: digest_header(challenge, "carol", "wonder", method="POST"),
    ],
)
def test_digest_rejects_wrong_answers(node, tamper):
    header = tamper(digest_challenge(node))
    assert node.call(request(listener=":2090", headers=[header])).status == 401


def test_digest_replay_and_decreasing_nc_are_refused(node):
    challenge = digest_challenge(node)
    first = digest_header(challenge, "carol", "wonder", nc="00000002")
    assert node.call(request(listener=":2090", headers=[first])).status == 200
    assert node.call(request(listener=":2090", headers=[first])).status == 401  # replayed
    lower = digest_header(challenge, "carol", "wonder", nc="00000001")
    assert node.call(request(listener=":2090", headers=[lower])).status == 401
    higher = digest_header(challenge, "carol", "wonder", nc="00000003")
    assert node.call(request(listener=":2090", headers=[higher])).status == 200


def test_digest_uri_must_name_the_request_target(node):
    header = digest_header(digest_challenge(node), "carol", "wonder", uri="/who")
    assert node.call(request("/who?y=2", listener=":2090", headers=[header])).status == 401
    absolute = digest_header(digest_challenge(node), "carol", "wonder", uri="/who?x=1")
    response = node.call(
        request("http://localhost/who?x=1", listener=":2090", headers=[absolute])
    )
    assert response.status == 200


@pytest.mark.parametrize(
    "fields",
    [{"cnonce": ""}, {"nc": "1"}, {"nc": "0000000g"}],
    ids=["no-cnonce", "short-nc", "hex-nc"],
)
def test_digest_cnonce_and_nc_are_checked(node, fields):
    """Each header is a correct response for its values; the values are not valid ones."""
    header = digest_header(digest_challenge(node), "carol", "wonder", **fields)
    assert node.call(request(listener=":2090", headers=[header])).status == 401


def test_clients_challenged_in_the_same_second_each_get_their_own_nonce(node, monkeypatch):
    """Each client counts nc from 1 on its own nonce; a shared nonce would refuse the
    second client's first request as a replay."""
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)
    first, second = digest_challenge(node), digest_challenge(node)
    assert first != second
    for challenge in (first, second):
        header = digest_header(challenge, "carol", "wonder", nc="00000001")
        assert node.call(request(listener=":2090", headers=[header])).status == 200


def test_an_expired_nonce_is_answered_stale(node, monkeypatch):
    challenge = digest_challenge(node)
    header = digest_header(challenge, "carol", "wonder")
    later = time.time() + 301
    monkeypatch.setattr(time, "time", lambda: later)
    response = node.call(request(listener=":2090", headers=[header]))
    assert response.status == 401
    assert "stale=true" in response.header("WWW-Authenticate")
    wrong = digest_header(challenge, "carol", "wrong")
    stale_wrong = node.call(request(listener=":2090", headers=[wrong]))
    assert "stale" not in stale_wrong.header("WWW-Authenticate")


def b64(text: str) -> str:
    return base64.b64encode(text.encode("latin-1")).decode()


MALFORMED_IDS = (  # one per row of the table below
    "huge-nonce non-hex-nonce unicode-digit-nonce 0x-nonce negative-nonce "
    "long-decimal-nonce latin1-response wide-response latin1-user huge-nc no-qop no-uri "
    "other-algorithm digest-alone digest-equals unterminated-quote basic-alone "
    "basic-bad-base64 basic-truncated basic-no-colon basic-latin1-password "
    "basic-huge-password basic-latin1-base64 basic-wide basic-trailing unknown-scheme "
    "wide-scheme "
).split()
HUGE_NONCE = "f" * 400 + "-" + "0" * 32  # once 500: int too large to convert to float


@pytest.mark.parametrize(
    "authorization",
    [
        lambda header: header.replace(_nonce(header), HUGE_NONCE),
        lambda header: header.replace(_nonce(header), "zz-" + "0" * 32),  # not hex
        lambda header: header.replace(_nonce(header), "\u0661\u0662-" + "0" * 32),  # int() digits
        lambda header: header.replace(_nonce(header), "0x1f-" + "0" * 32),
        lambda header: header.replace(_nonce(header), "-1-" + "0" * 32),
        lambda header: header.replace(_nonce(header), "1" * 4000),
        lambda header: header.replace('response="', 'response="\u00e9'),  # non-ASCII compare
        lambda header: header.replace('response="', 'response="\u2603'),  # beyond one byte
        lambda header: header.replace('username="carol"', 'username="caröl"'),
        lambda header: header.replace("nc=00000001", "nc=" + "9" * 5000),
        lambda header: header.replace(", qop=auth", ""),  # fields missing
        lambda header: header.replace('uri="/who", ', ""),
        lambda header: header.replace("algorithm=MD5", "algorithm=SHA-256"),
        lambda header: "Digest",
        lambda header: "Digest " + "=" * 50,
        lambda header: 'Digest username="carol", nonce="' + HUGE_NONCE,  # unterminated quote
        lambda header: "Basic",
        lambda header: "Basic !!notbase64",
        lambda header: "Basic " + b64("alice:s3cret")[:-1],  # truncated padding
        lambda header: "Basic " + b64("no colon"),
        lambda header: "Basic " + b64("alice:s3cret\u00e9"),
        lambda header: "Basic " + b64("\u00ff" * 3 + ":" + "9" * 10000),
        lambda header: "Basic \u00e9\u00e9==",
        lambda header: "Basic \u2603",
        lambda header: "Basic " + b64("alice:s3cret") + " trailing",
        lambda header: "Bearer " + "9" * 5000,
        lambda header: "\u2603 " + b64("alice:s3cret"),
    ],
    ids=MALFORMED_IDS,
)
def test_malformed_authorization_is_refused_not_an_error(node, authorization):
    header = digest_header(digest_challenge(node), "carol", "wonder")[1]
    malformed = authorization(header)
    response = node.call(request(listener=":2090", headers=[("Authorization", malformed)]))
    assert (response.status, response.body) == (401, b""), malformed[:80]
    assert response.header("WWW-Authenticate") is not None
    assert "Traceback" not in node.paniclog.text()


def _nonce(header: str) -> str:
    return parse_auth_params(header.removeprefix("Digest "))["nonce"]


def test_basic_still_works_beside_digest(node):
    response = node.call(request(listener=":2090", headers=[basic("alice:s3cret")]))
    assert (response.status, response.body) == (200, b"user=alice")


# -- register_auth ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "status", "body"),
    [
        ("good", 200, b"user=token-user"),
        ("slow", 200, b"user=slow-user"),  # the auth function may msys.sleep
        ("bad", 401, b""),
        ("broken", 500, b""),
        ("raise", 500, b""),
    ],
)
def test_register_auth_verdicts(node, token, status, body):
    response = node.call(request("/hooked", headers=[("X-Token", token)]))
    assert (response.status, response.body) == (status, body)


def test_register_auth_replaces_the_configured_check(node):
    response = node.call(request("/hooked", headers=[basic("alice:s3cret")]))
    assert response.status == 401
    assert response.header("WWW-Authenticate") == 'Basic realm="plain realm"'


def test_register_auth_only_runs_when_authentication_is_on(node):
    response = node.call(request("/hooked", peer="192.0.2.9", headers=[("X-Token", "bad")]))
    assert (response.status, response.body) == (200, b"user=nil")


def test_register_auth_error_is_logged(node):
    node.call(request("/hooked", headers=[("X-Token", "raise")]))
    assert "auth script failed" in node.paniclog.text()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('register_auth(1, "/x", function() end)', "bad argument #1 to 'register_auth'"),
        ('register_auth("GET", nil, function() end)', "bad argument #2 to 'register_auth'"),
        ('register_auth("GET", "/x", 5)', "bad argument #3 to 'register_auth'"),
        ('register_auth("GET", "/x", "no_such_global")', "no global function named"),
    ],
)
def test_register_auth_argument_errors(node, call, message):
    reply = node.console(f"scriptlet eval msys.httpsrv.{call}")
    assert message in reply


def test_register_auth_registry_is_per_generation(node):
    assert node.console("config set HTTP_Listener Idle_Time = 5") == "Idle_Time = 5\n"
    assert len(node.generation.httpsrv.auth_registry) == 1
    response = node.call(request("/hooked", headers=[("X-Token", "good")]))
    assert (response.status, response.body) == (200, b"user=token-user")


def test_python_auth_handler(node):
    seen = []

    def handler(session):
        seen.append(session.request_header_get("X-Token"))
        return 0, "py-user"

    node.generation.httpsrv.auth_registry.register(None, "/who", handler)
    response = node.call(request(headers=[("X-Token", "t")]))
    assert (response.status, response.body, seen) == (200, b"user=py-user", [(0, "t")])


# -- over HTTP ---------------------------------------------------------------------------


def test_authentication_over_http(node):
    async def scenario():
        await node.start_listeners()
        port = next(
            address[1]
            for listener in node.listeners
            if listener.address == "127.0.0.1:0"
            for address in listener.bound_addresses
        )

        def fetch(headers):
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            client.request("GET", "/who", headers=dict(headers))
            reply = client.getresponse()
            result = reply.status, reply.getheader("WWW-Authenticate"), reply.read()
            client.close()
            return result

        try:
            refused = await asyncio.to_thread(fetch, [])
            accepted = await asyncio.to_thread(fetch, [basic("alice:s3cret")])
        finally:
            await node.close_listeners()
        return refused, accepted

    refused, accepted = asyncio.run(scenario())
    assert refused == (401, 'Basic realm="plain realm"', b"")
    assert accepted == (200, None, b"user=alice")
