"""HTTP Digest authentication (RFC 7616, MD5 with ``qop=auth``): the nonces a server
issues and the checks of a client's response to one.

A nonce is its issue time, random bytes (so every challenge has its own nonce and every
client its own ``nc`` count) and a MAC of both under a key of the generation, so nothing
has to be stored to recognise one. What is stored is the highest ``nc`` each nonce was used
with: a request must count up (RFC 7616 §3.4), so a captured ``Authorization`` header
cannot be replayed. An expired nonce with an otherwise correct response is answered with
a fresh challenge marked ``stale=true``: the client retries without asking the user.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

NONCE_LIFETIME = 300  # seconds a Digest nonce is accepted; an older one is stale
# What issue() makes: hex seconds (16 digits last past year 10^12), "-", 16 hex of random
# bytes, "-", 32 hex of MAC.
NONCE_SHAPE = re.compile(r"[0-9a-f]{1,16}-[0-9a-f]{16}-[0-9a-f]{32}")
NC_SHAPE = re.compile(r"[0-9a-fA-F]{8}")
# Nonces whose counts are remembered; past this the oldest is forgotten (its next use is
# then refused as a replay, and the client gets a new challenge).
MAX_TRACKED_NONCES = 65536


class NonceState(enum.Enum):
    FRESH = "fresh"
    STALE = "stale"  # ours, but older than the lifetime
    UNKNOWN = "unknown"  # not one we issued


@dataclass(frozen=True)
class DigestOutcome:
    """The user when the response is right, and whether the challenge says stale."""

    user: str | None
    stale: bool = False


class DigestNonces:
    """Issues nonces and checks Digest responses to them for one configuration generation."""

    def __init__(self, lifetime: float = NONCE_LIFETIME) -> None:
        self._key = os.urandom(16)
        self._lifetime = lifetime
        self._last_nc: OrderedDict[str, int] = OrderedDict()
        self._forgotten_up_to = -1  # the latest issue time of a nonce no longer remembered

    def issue(self, issued: int | None = None) -> str:
        issued = int(time.time()) if issued is None else issued
        salt = os.urandom(8).hex()
        return f"{issued:x}-{salt}-{self._mac(issued, salt)}"

    def _mac(self, issued: int, salt: str) -> str:
        return hmac.new(self._key, f"{issued}:{salt}".encode(), hashlib.sha256).hexdigest()[:32]

    def state(self, nonce: str) -> NonceState:
        """Only a nonce shaped like ours is read, so no client number reaches arithmetic."""
        if not NONCE_SHAPE.fullmatch(nonce):
            return NonceState.UNKNOWN
        issued = _issued(nonce)
        _, salt, mac = nonce.split("-")
        if not same_text(self._mac(issued, salt), mac):
            return NonceState.UNKNOWN
        if int(time.time()) - issued > self._lifetime:
            return NonceState.STALE
        return NonceState.FRESH

    def count_up(self, nonce: str, nc: int) -> bool:
        """Record a use of ``nonce`` with count ``nc``; False when it does not count up."""
        last = self._last_nc.get(nonce)
        if last is not None and nc <= last:
            return False
        if last is None and _issued(nonce) <= self._forgotten_up_to:
            return False  # it may have been used before it was forgotten
        self._last_nc[nonce] = nc
        self._last_nc.move_to_end(nonce)
        while len(self._last_nc) > MAX_TRACKED_NONCES:
            forgotten, _ = self._last_nc.popitem(last=False)
            self._forgotten_up_to = max(self._forgotten_up_to, _issued(forgotten))
        return True

    def check(
        self,
        fields: dict[str, str],
        realm: str,
        method: str,
        target: str,
        ha1_for: Callable[[str], str | None],
    ) -> DigestOutcome:
        """Check a parsed ``Authorization: Digest`` against the request it came with;
        ``ha1_for(user)`` reads the user's H(user:realm:password) from the store."""
        user, nonce = fields.get("username"), fields.get("nonce", "")
        needed = ("uri", "response", "nc", "cnonce")
        if user is None or fields.get("qop") != "auth" or any(k not in fields for k in needed):
            return DigestOutcome(None)
        if not fields["cnonce"] or not NC_SHAPE.fullmatch(fields["nc"]):
            return DigestOutcome(None)
        if fields.get("realm") != realm or fields.get("algorithm", "MD5").upper() != "MD5":
            return DigestOutcome(None)
        if not uri_names_target(fields["uri"], target):
            return DigestOutcome(None)
        state = self.state(nonce)
        if state is NonceState.UNKNOWN:
            return DigestOutcome(None)
        ha1 = ha1_for(user)
        if ha1 is None:
            return DigestOutcome(None)
        ha2 = md5_hex(f"{method}:{fields['uri']}")
        expected = md5_hex(f"{ha1}:{nonce}:{fields['nc']}:{fields['cnonce']}:auth:{ha2}")
        if not same_text(expected, fields["response"].lower()):
            return DigestOutcome(None)
        if state is NonceState.STALE:
            return DigestOutcome(None, stale=True)
        if not self.count_up(nonce, int(fields["nc"], 16)):
            return DigestOutcome(None)
        return DigestOutcome(user)


def _issued(nonce: str) -> int:
    """The issue time of a nonce already known to have NONCE_SHAPE."""
    return int(nonce.partition("-")[0], 16)


def uri_names_target(uri: str, target: str) -> bool:
    """RFC 7616 §3.4.6: the ``uri`` parameter names the request-target (an absolute-form
    target also matches its path and query)."""
    if same_text(uri, target):
        return True
    if "://" in target:
        after_scheme = target.split("://", 1)[1]
        slash = after_scheme.find("/")
        path = after_scheme[slash:] if slash >= 0 else "/"
        return same_text(uri, path)
    return False


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("latin-1")).hexdigest()


def same_text(expected: str, given: str) -> bool:
    """Constant-time equality for wire text (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(expected.encode("latin-1"), given.encode("latin-1"))
