"""IP access control and authentication before dispatch
(docs/request-lifecycle.md#access-control-and-authentication).

The decision procedure: ``Always_Deny`` → ``403 DENIED`` and close;
``Always_Allow`` → authorised without a user; ``Enable_Authentication`` off → authorised;
a verified client certificate with ``TLS_Verified_Peer_Is_Authorized`` → user = its CN;
a matching ``register_auth`` handler → its verdict; else the ``Authorization`` header is
checked against ``AuthPlainParameters`` (Basic) or ``AuthDigestMD5Parameters`` (Digest);
otherwise ``401`` with one challenge per configured mechanism.
"""

from __future__ import annotations

import base64
import binascii
import functools
import inspect
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..config import ConfigScope, ConfigValue
from .access import EffectiveScopes, ScopeResolver, access_scopes
from .digest import DigestNonces, DigestOutcome, md5_hex, same_text
from .requests import Request
from .responses import ResponseSink
from .routing import AuthVerdict, EndpointRegistry, HandlerError
from .session import HttpSession
from .wire import MOMENTUM_REASONS, standard_reason

AUTH_OK, AUTH_FAIL, AUTH_ERROR = AuthVerdict.OK, AuthVerdict.FAIL, AuthVerdict.ERROR

ErrorLog = Callable[[str, str | None], None]
ACCESS_FLAGS = ("Always_Deny", "Always_Allow", "Enable_Authentication",
                "TLS_Verified_Peer_Is_Authorized")
MECHANISM_OPTIONS = (("Digest", "AuthDigestMD5Parameters"), ("Basic", "AuthPlainParameters"))


def check_access_options(root: ConfigScope) -> None:
    """Convert every access and authentication option where it is written, so a bad value
    is a ConfigValueError at its ``file:line:col`` when the generation is built (``check``
    reports it) instead of an error on each request."""
    for scope in access_scopes(root):
        for name in ACCESS_FLAGS:
            if (option := scope.option(name)) is not None:
                option.as_bool()
        for _, name in MECHANISM_OPTIONS:
            if (option := scope.option(name)) is not None:
                option.as_params()


class CredentialStoreError(Exception):
    """A credential store named by a ``uri`` cannot be read or is not supported."""


class CredentialFile:
    """A ``user:rest`` text file with ``#`` comments, re-read when it changes on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._entries: dict[str, list[list[str]]] = {}

    def entries(self) -> dict[str, list[list[str]]]:
        """user → the remaining ``:``-separated fields of each of that user's lines."""
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != self._stamp:
                text = self.path.read_bytes().decode("latin-1")
                self._entries, self._stamp = _parse_credentials(text), stamp
        except OSError as error:
            raise CredentialStoreError(f"credential file {self.path}: {error.strerror}") from None
        return self._entries


def _parse_credentials(text: str) -> dict[str, list[list[str]]]:
    entries: dict[str, list[list[str]]] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        user, colon, rest = line.partition(":")
        if colon:
            entries.setdefault(user, []).append(rest.split(":"))
    return entries


def store_path(uri: str, scheme: str, base: Path) -> Path:
    """``file:///etc/pw`` → /etc/pw; a relative path is taken from the configuration's
    directory. CredentialStoreError for another scheme (ecauth://, ac_auth://…)."""
    prefix = f"{scheme}://"
    if not uri.startswith(prefix):
        raise CredentialStoreError(
            f"credential store {uri!r} is not supported here; use {prefix}/path/to/file"
        )
    return base / uri[len(prefix) :]


@dataclass(frozen=True)
class Mechanism:
    """One configured mechanism: its parameters as written in the configuration."""

    name: str  # "Basic" or "Digest"
    uri: str
    realm: str
    params: dict[str, ConfigValue] = field(default_factory=dict, compare=False)


def _text_param(params: dict[str, ConfigValue], key: str) -> str | None:
    value = next((v for k, v in params.items() if k.lower() == key), None)
    return None if value is None else str(value)


class AuthSchemes(Protocol):
    """Authentication schemes scripts registered (``msys.registerAuth``), asked by name; a
    scheme that fails raises HandlerError (the Lua binding provides them)."""

    def __contains__(self, scheme: str) -> bool: ...

    def authenticate(
        self,
        scheme: str,
        filename: str,
        params: dict[str, ConfigValue],
        user: str,
        password: str | None,
    ) -> tuple[int, str | None]: ...


class AccessControl:
    """The access and authentication step for one configuration generation; building it
    checks the options it reads (ConfigValueError)."""

    def __init__(
        self,
        root: ConfigScope,
        auth_registry: EndpointRegistry,
        log_error: ErrorLog,
        config_directory: Path | None = None,
        hostname: str | None = None,
        schemes: AuthSchemes | None = None,
    ) -> None:
        check_access_options(root)
        # Nothing can deny or demand credentials unless one of these is written somewhere:
        # without them every request is admitted, and the dispatcher skips the step.
        self.enforced = any(
            scope.option(name) is not None
            for scope in (root, *access_scopes(root))
            for name in ("Always_Deny", "Enable_Authentication")
        )
        self._schemes = schemes
        self._warn_unknown_stores(root, log_error)
        self.auth_registry = auth_registry
        self._log_error = log_error
        self._warned: set[str] = set()
        self._resolver = ScopeResolver(root, warn=self._warn_once)
        self._base = config_directory or Path.cwd()
        self._hostname = hostname or root.get_str("Hostname") or socket.gethostname()
        self._files: dict[Path, CredentialFile] = {}
        self._digest = DigestNonces()

    def _warn_unknown_stores(self, root: ConfigScope, log_error: ErrorLog) -> None:
        """A ``uri`` whose scheme is neither a file store nor registered with
        msys.registerAuth is named at its place when the generation is built, not only
        by the 500s its requests would get."""
        for scope in access_scopes(root):
            for _, name in MECHANISM_OPTIONS:
                option = scope.option(name)
                uri = _text_param(option.as_params(), "uri") if option is not None else None
                scheme, separator, _ = (uri or "").partition("://")
                known = scheme in ("file", "digest") or (
                    self._schemes is not None and scheme in self._schemes
                )
                if option is not None and separator and not known:
                    log_error(
                        f"{option.location}: warning: {name} uri scheme '{scheme}' is not "
                        "file://, digest:// or a scheme registered with msys.registerAuth; "
                        "requests it applies to get 500",
                        None,
                    )

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            self._log_error(message, None)

    async def admit(self, session: HttpSession, sink: ResponseSink, path: str) -> bool:
        """Decide whether the request may reach its handler; when not, the response
        (403, 401 or 500) has been sent and False is returned."""
        connection = session.request.connection
        scopes = self._resolver.resolve(connection.listener, (connection.peer or (None,))[0])
        if scopes.get_bool("Always_Deny", False):
            _reply(session, sink, 403, MOMENTUM_REASONS[403], [("Connection", "close")])
            return False
        if scopes.get_bool("Always_Allow", False):
            return True
        if not scopes.get_bool("Enable_Authentication", False):
            return True
        subject_cn = connection.subject_cn
        if subject_cn and scopes.get_bool("TLS_Verified_Peer_Is_Authorized", False):
            session.auth_user = subject_cn
            return True
        mechanisms = self._mechanisms(scopes)
        registration = self.auth_registry.match(session.request.method, path)
        stale = False
        try:
            if registration is not None:
                verdict, user = await self._run_auth_handler(registration, session)
            else:
                verdict, user, stale = self._check_credentials(session, mechanisms)
        except CredentialStoreError as error:
            self._log_error(f"httpsrv: authentication: {error}", None)
            verdict, user = AUTH_ERROR, None
        except HandlerError as error:
            self._log_error(error.message, error.traceback)
            verdict, user = AUTH_ERROR, None
        except Exception as error:  # a bug in an auth handler must not stop the server
            self._log_error(f"httpsrv: auth handler raised {error!r}", traceback.format_exc())
            verdict, user = AUTH_ERROR, None
        if verdict == AUTH_OK:
            session.auth_user = user
            return True
        if verdict == AUTH_ERROR:
            session.fail()
            return False
        if not mechanisms and registration is None:
            self._warn_once(
                "httpsrv: Enable_Authentication is on but neither AuthPlainParameters nor "
                "AuthDigestMD5Parameters applies; every request is refused"
            )
        challenges = [("WWW-Authenticate", self._challenge(m, stale)) for m in mechanisms]
        _reply(session, sink, 401, standard_reason(401), challenges)
        return False

    def _mechanisms(self, scopes: EffectiveScopes) -> list[Mechanism]:
        mechanisms = []
        for name, option in MECHANISM_OPTIONS:
            params = scopes.get_params(option)
            if params is None:
                continue
            uri = _text_param(params, "uri")
            if uri is None:
                self._warn_once(f"httpsrv: {option} has no uri; {name} authentication is off")
                continue
            realm = _text_param(params, "realm") or self._hostname
            mechanisms.append(Mechanism(name, uri, realm, params))
        return mechanisms

    async def _run_auth_handler(self, registration, session: HttpSession) -> tuple[int, str | None]:
        session.service_closure = registration.closure
        result = registration.handler(session)
        if inspect.isawaitable(result):
            result = await result
        values = result if isinstance(result, tuple) else (result,)
        verdict = values[0] if values else None
        user = values[1] if len(values) > 1 else None
        if verdict not in (AUTH_OK, AUTH_FAIL, AUTH_ERROR):
            self._log_error(f"httpsrv: auth handler returned {verdict!r}; taken as ERROR", None)
            return AUTH_ERROR, None
        return verdict, (str(user) if user is not None and verdict == AUTH_OK else None)

    def _check_credentials(
        self, session: HttpSession, mechanisms: list[Mechanism]
    ) -> tuple[int, str | None, bool]:
        """(verdict, user, whether a Digest nonce was stale)."""
        header = session.request.header("Authorization")
        if header is None or not _is_wire_text(header):
            return AUTH_FAIL, None, False
        scheme, _, credentials = header.strip().partition(" ")
        for mechanism in mechanisms:
            if mechanism.name.lower() != scheme.lower():
                continue
            if self._registered_scheme(mechanism) is not None:
                return self._check_registered(mechanism, credentials, session.request)
            if mechanism.name == "Basic":
                user = self._check_basic(mechanism, credentials.strip())
                return (AUTH_OK, user, False) if user is not None else (AUTH_FAIL, None, False)
            outcome = self._check_digest(mechanism, credentials, session.request)
            if outcome.user is not None:
                return AUTH_OK, outcome.user, False
            return AUTH_FAIL, None, outcome.stale
        return AUTH_FAIL, None, False

    def _credential_file(self, mechanism: Mechanism, scheme: str) -> dict[str, list[list[str]]]:
        path = store_path(mechanism.uri, scheme, self._base)
        store = self._files.get(path)
        if store is None:
            store = self._files[path] = CredentialFile(path)
        return store.entries()

    # -- schemes registered with msys.registerAuth ----------------------------------------

    def _registered_scheme(self, mechanism: Mechanism) -> str | None:
        scheme, separator, _ = mechanism.uri.partition("://")
        if separator and self._schemes is not None and scheme in self._schemes:
            return scheme
        return None

    def _check_registered(
        self, mechanism: Mechanism, credentials: str, request: Request
    ) -> tuple[int, str | None, bool]:
        """Ask the registered scheme: Basic passes the password; Digest asks for it and
        checks the response against it."""
        assert self._schemes is not None
        scheme, _, filename = mechanism.uri.partition("://")
        if mechanism.name == "Basic":
            pair = _basic_pair(credentials.strip())
            if pair is None:
                return AUTH_FAIL, None, False
            user, password = pair
            verdict, _ = self._schemes.authenticate(
                scheme, filename, mechanism.params, user, password
            )
            return verdict, (user if verdict == AUTH_OK else None), False
        asked: dict[str, int] = {}

        def ha1_from_scheme(user: str) -> str | None:
            verdict, password = self._schemes.authenticate(  # type: ignore[union-attr]
                scheme, filename, mechanism.params, user, None
            )
            asked["verdict"] = verdict
            if verdict == AUTH_OK and password is None:
                self._warn_once(
                    f"httpsrv: auth scheme '{scheme}' allowed a Digest user without returning "
                    "the password (EC_AUTH_OK, password); the request is refused"
                )
            if verdict != AUTH_OK or password is None:
                return None
            return md5_hex(f"{user}:{mechanism.realm}:{password}")

        outcome = self._check_digest(mechanism, credentials, request, ha1_from_scheme)
        if outcome.user is not None:
            return AUTH_OK, outcome.user, False
        failed = AUTH_ERROR if asked.get("verdict") == AUTH_ERROR else AUTH_FAIL
        return failed, None, outcome.stale

    def _check_basic(self, mechanism: Mechanism, credentials: str) -> str | None:
        """The user when ``user:password`` matches the ``file://`` store, else None."""
        pair = _basic_pair(credentials)
        if pair is None:
            return None
        user, password = pair
        lines = self._credential_file(mechanism, "file").get(user)
        if not lines:
            return None
        return user if same_text(":".join(lines[0]), password) else None

    # -- Digest (RFC 7616 with MD5 and qop=auth) ----------------------------------------

    def _challenge(self, mechanism: Mechanism, stale: bool = False) -> str:
        if mechanism.name == "Basic":
            return f'Basic realm="{mechanism.realm}"'
        return (
            f'Digest realm="{mechanism.realm}", nonce="{self._digest.issue()}", '
            f'qop="auth", algorithm=MD5{", stale=true" if stale else ""}'
        )

    def _file_ha1(self, mechanism: Mechanism, user: str) -> str | None:
        """The user's HA1 for the realm in the ``digest://`` (htdigest) store."""
        lines = self._credential_file(mechanism, "digest").get(user, [])
        realm = mechanism.realm
        return next((f[1].strip().lower() for f in lines if len(f) > 1 and f[0] == realm), None)

    def _check_digest(
        self,
        mechanism: Mechanism,
        credentials: str,
        request: Request,
        ha1_for: Callable[[str], str | None] | None = None,
    ) -> DigestOutcome:
        """Check the Digest response (digest.py) against the user's HA1, from the
        ``digest://`` store unless ``ha1_for`` gives it."""
        return self._digest.check(
            parse_auth_params(credentials),
            mechanism.realm,
            request.method,
            request.target,
            ha1_for or functools.partial(self._file_ha1, mechanism),
        )


def _basic_pair(credentials: str) -> tuple[str, str] | None:
    """``base64(user:password)`` → (user, password), None when malformed."""
    try:
        decoded = base64.b64decode(credentials.encode("latin-1"), validate=True)
    except binascii.Error:
        return None
    user, colon, password = decoded.decode("latin-1").partition(":")
    return (user, password) if colon else None


def _is_wire_text(text: str) -> bool:
    """Header text as the wire carries it: one char per byte (an offline Request may hold
    any str, which no client could send)."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def parse_auth_params(text: str) -> dict[str, str]:
    """``a="x, y", b=z`` → {"a": "x, y", "b": "z"} (quoted strings may hold commas and
    backslash escapes); names lower-cased."""
    fields: dict[str, str] = {}
    index, length = 0, len(text)
    while index < length:
        while index < length and text[index] in " \t,":
            index += 1
        equals = text.find("=", index)
        if equals < 0:
            break
        name = text[index:equals].strip().lower()
        index = equals + 1
        if index < length and text[index] == '"':
            index += 1
            value = []
            while index < length and text[index] != '"':
                if text[index] == "\\" and index + 1 < length:
                    index += 1
                value.append(text[index])
                index += 1
            index += 1
            fields[name] = "".join(value)
        else:
            end = text.find(",", index)
            end = length if end < 0 else end
            fields[name] = text[index:end].strip()
            index = end
    return fields


def _reply(
    session: HttpSession,
    sink: ResponseSink,
    status: int,
    reason: str,
    headers: list[tuple[str, str]],
) -> None:
    """A response the server generates itself, empty body (docs/request-lifecycle.md).
    Written to the sink directly: a session cannot send two headers of one name or
    Connection."""
    if session.committed:  # an auth handler already sent output: the status cannot change
        session.fail()
        return
    session.completed = True
    sink.start(status, reason, headers, 0)
    sink.end()
