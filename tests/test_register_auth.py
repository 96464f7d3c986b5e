"""msys.registerAuth(scheme, tbl) from init: a listener's AuthPlainParameters or
AuthDigestMD5Parameters whose uri names the scheme asks tbl:authenticate
(lua/ref-msys-register-auth.md)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from momentum_httpsrv.node import GenerationError, MomentumNode
from tests.test_auth import SCRIPT as WHO_SCRIPT
from tests.test_auth import digest_header, request

SCHEME_SCRIPT = r"""
require("msys.core")
local mod = {}
local auth = {}
seen = {}

function auth:enumGroups(username)
  if username == "root" then return { "root", "admin" } end
  return msys.core.EC_AUTH_FAIL
end

function auth:queryGroups() return { "root", "admin", "users" } end

function auth:authenticate(filename, params, username, password)
  seen = { filename = filename, realm = params.realm, user = username, self = self == auth }
  if username == "broken" then return msys.core.EC_AUTH_ERROR end
  if username == "raise" then error("the directory is down") end
  if username == "odd" then return "yes" end
  if username == "mute" then return end
  if username == "boxed" then return { msys.core.EC_AUTH_OK } end
  if password == nil then  -- Digest asks for the password
    if username == "root" then return msys.core.EC_AUTH_OK, "letmein" end
    if username == "silent" then return msys.core.EC_AUTH_OK end
    return msys.core.EC_AUTH_FAIL
  end
  if username == "root" and password == "letmein" then return msys.core.EC_AUTH_OK end
  return msys.core.EC_AUTH_FAIL
end

function mod:init()
  msys.registerAuth("myscheme", auth)
  return true
end
msys.registerModule("myauth", mod)
"""

CONF = """
scriptlet "scriptlet" {
  script "myauth" { source = "myauth" }
  script "authsite" { source = "authsite" }
}
HTTP_Listener {
  Enable_Authentication = true
  Listen ":2091" {
    AuthPlainParameters = [ uri = "myscheme:///etc/staff" realm = "staff" ]
  }
  Listen ":2090" {
    AuthDigestMD5Parameters = [ uri = "myscheme://" realm = "api" ]
  }
}
"""


def start(tmp_path: Path, script: str = SCHEME_SCRIPT) -> MomentumNode:
    (tmp_path / "myauth.lua").write_text(script)
    (tmp_path / "authsite.lua").write_text(WHO_SCRIPT)  # GET /who answers user=<name>
    (tmp_path / "ecelerity.conf").write_text(CONF)
    node = MomentumNode(tmp_path / "ecelerity.conf")
    node.start()
    return node


@pytest.fixture
def node(tmp_path: Path):
    started = start(tmp_path)
    yield started
    started.stop()


def basic(user_password: str) -> tuple[str, str]:
    return ("Authorization", "Basic " + base64.b64encode(user_password.encode()).decode())


@pytest.mark.parametrize(
    ("credentials", "status", "body"),
    [
        ("root:letmein", 200, b"user=root"),
        ("root:wrong", 401, b""),
        ("nobody:letmein", 401, b""),
        ("broken:x", 500, b""),
        ("raise:x", 500, b""),
        ("odd:x", 500, b""),
    ],
)
def test_basic_asks_the_registered_scheme(node, credentials, status, body) -> None:
    response = node.call(request(headers=[basic(credentials)]))
    assert (response.status, response.body) == (status, body)


def test_authenticate_gets_the_uri_path_and_the_parameters(node) -> None:
    node.call(request(headers=[basic("root:letmein")]))
    assert node.console("scriptlet eval seen.filename, seen.realm, seen.user, seen.self") == (
        "/etc/staff\tstaff\troot\ttrue\n"
    )


def test_scheme_errors_are_logged(node) -> None:
    node.call(request(headers=[basic("raise:x")]))
    node.call(request(headers=[basic("odd:x")]))
    log = node.paniclog.text()
    assert "the directory is down" in log and "stack traceback" in log
    assert "authenticate returned 'yes', not an EC_AUTH_* verdict" in log


def test_a_non_verdict_is_named_as_lua_sees_it(node) -> None:
    for user in ("mute", "boxed"):
        assert node.call(request(headers=[basic(f"{user}:x")])).status == 500
    log = node.paniclog.text()
    assert "authenticate returned nil, not an EC_AUTH_* verdict" in log
    assert "authenticate returned a table, not an EC_AUTH_* verdict" in log


def challenge(node) -> str:
    response = node.call(request(listener=":2090"))
    assert response.status == 401
    return dict(response.headers)["WWW-Authenticate"]


def test_digest_checks_the_response_against_the_password_the_scheme_returns(node) -> None:
    good = digest_header(challenge(node), "root", "letmein")
    response = node.call(request(listener=":2090", headers=[good]))
    assert (response.status, response.body) == (200, b"user=root")
    wrong = digest_header(challenge(node), "root", "guess")
    assert node.call(request(listener=":2090", headers=[wrong])).status == 401
    broken = digest_header(challenge(node), "broken", "x")
    assert node.call(request(listener=":2090", headers=[broken])).status == 500


def test_digest_refuses_a_user_allowed_without_a_password(node) -> None:
    silent = digest_header(challenge(node), "silent", "anything")
    assert node.call(request(listener=":2090", headers=[silent])).status == 401
    assert "allowed a Digest user without returning the password" in node.paniclog.text()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('msys.registerAuth(1, {})', "bad argument #1 to 'registerAuth'"),
        ('msys.registerAuth("my scheme", {})', "a URI scheme name expected, got 'my scheme'"),
        ('msys.registerAuth("s", "t")', "bad argument #2 to 'registerAuth' (table expected"),
        ('msys.registerAuth("s", { authenticate = 1 })', "authenticate must be a function"),
    ],
)
def test_register_auth_argument_errors(tmp_path, call, message) -> None:
    script = SCHEME_SCRIPT.replace('msys.registerAuth("myscheme", auth)', call)
    with pytest.raises(GenerationError, match=message.replace("(", r"\(")):
        start(tmp_path, script)


@pytest.mark.parametrize(
    ("moved", "where"),
    [
        ('msys.registerAuth("myscheme", auth)\nmsys.registerModule(', "outside a module callout"),
        ('function mod:rsrc_setup() msys.registerAuth("myscheme", auth) return true end\n'
         "msys.registerModule(", "from rsrc_setup"),
    ],
    ids=["top level", "rsrc_setup"],
)
def test_register_auth_outside_init_is_a_lua_error_at_the_call(tmp_path, moved, where) -> None:
    """Momentum's page: it must be called from an init routine."""
    script = SCHEME_SCRIPT.replace('msys.registerAuth("myscheme", auth)', "").replace(
        "msys.registerModule(", moved
    )
    line = 1 + script.splitlines().index(next(
        text for text in script.splitlines() if 'registerAuth("myscheme"' in text
    ))
    with pytest.raises(GenerationError) as failed:
        start(tmp_path, script)
    assert str(failed.value).endswith(
        f"myauth.lua:{line}: msys.registerAuth must be called from a module's init, not {where}"
    )


def test_register_auth_from_a_handler_is_a_lua_error(node, tmp_path) -> None:
    (tmp_path / "late.lua").write_text(
        'msys.httpsrv.register("GET", "/late", function(s)\n'
        '  msys.registerAuth("late", {})\n'
        "end)\n"
    )
    node.generation.lua.execute((tmp_path / "late.lua").read_text(), "@late.lua")
    assert node.call(request("/late", headers=[basic("root:letmein")])).status == 500
    assert ("late.lua:2: msys.registerAuth must be called from a module's init, not outside "
            "a module callout") in node.paniclog.text()
    assert "late" not in node.generation.httpsrv.auth_schemes


def test_an_unregistered_scheme_is_named_where_it_is_configured(tmp_path) -> None:
    script = SCHEME_SCRIPT.replace('msys.registerAuth("myscheme", auth)', "")
    node = start(tmp_path, script)
    try:
        log = node.paniclog.text()
        assert "ecelerity.conf:9:5: warning: AuthPlainParameters uri scheme 'myscheme' is " in log
        assert "ecelerity.conf:12:5: warning: AuthDigestMD5Parameters uri scheme" in log
    finally:
        node.stop()
