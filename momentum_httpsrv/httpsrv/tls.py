"""TLS for HTTP listeners (docs/request-lifecycle.md#tls): the server ``SSLContext`` a
``Listen`` scope's ``Use_SSL`` and ``TLS_*`` options describe, and the verified
client-certificate CN.

The context is built when a configuration generation is built, so that a missing
certificate or an unusable option stops ``check`` at the option's ``file:line:col``.
Momentum's HTTP TLS is OpenSSL; Python's ``ssl`` is OpenSSL too, so cipher strings and
protocol limits mean the same, except that ``TLS_Protocols`` can only become a range of
versions (``minimum_version`` .. ``maximum_version``).
"""

from __future__ import annotations

import ssl
import warnings
from pathlib import Path

from ..config import ConfigOption, ConfigScope, Configuration, ConfigValueError

# TLS_Protocols tokens in version order; SSLv2/SSLv3 are accepted and never negotiated.
_TLS_VERSIONS = {
    "tlsv1.0": ssl.TLSVersion.TLSv1,
    "tlsv1": ssl.TLSVersion.TLSv1,
    "tlsv1.1": ssl.TLSVersion.TLSv1_1,
    "tlsv1.2": ssl.TLSVersion.TLSv1_2,
    "tlsv1.3": ssl.TLSVersion.TLSv1_3,
}
_VERSION_ORDER = [
    ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
]
_NEVER_NEGOTIATED = {"sslv2", "sslv3"}
_VERIFY_MODES = {"none": ssl.CERT_NONE, "require": ssl.CERT_REQUIRED}


def tls_context_for(config: Configuration, listen: ConfigScope) -> ssl.SSLContext | None:
    """The server context for ``listen`` (options resolved Listen → HTTP_Listener →
    global → default), or None when ``Use_SSL`` is off. ConfigValueError at the
    offending option's location for files that cannot be used and unknown values."""

    def lookup(name: str) -> ConfigOption | None:
        return config.lookup(listen.path, name)

    use_ssl = lookup("Use_SSL")
    if use_ssl is None or not use_ssl.as_bool():
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _load_certificate(context, config.directory, use_ssl, lookup("TLS_Certificate"),
                      lookup("TLS_Key"))
    client_ca = lookup("TLS_Client_CA")
    if client_ca is not None:
        path = _readable_file(client_ca, config.directory)
        try:
            context.load_verify_locations(cafile=str(path))
        except ssl.SSLError as error:
            raise ConfigValueError(
                client_ca.location, f"TLS_Client_CA {str(path)!r}: no usable certificate "
                f"({error.reason or error})"
            ) from None
    context.verify_mode = _verify_mode(lookup("TLS_Verify_Mode"), client_ca)
    protocols = lookup("TLS_Protocols")
    if protocols is not None:
        with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated; the operator asked
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version, context.maximum_version = _version_range(protocols)
    ciphers = lookup("TLS_Ciphers")
    if ciphers is not None:
        try:
            context.set_ciphers(ciphers.as_str())
        except ssl.SSLError:
            raise ConfigValueError(
                ciphers.location, f"TLS_Ciphers {ciphers.as_str()!r} selects no cipher"
            ) from None
    renegotiation = lookup("TLS_Allow_Renegotiation")
    if renegotiation is not None and not renegotiation.as_bool():
        context.options |= ssl.OP_NO_RENEGOTIATION
    return context


def verified_subject_cn(peercert: dict | None) -> str | None:
    """The first CN of a client certificate's subject, Latin-1 convention (the bytes of
    its UTF-8), or None. Python hands over a non-empty ``peercert`` only for a
    certificate that was verified, so an empty or missing one means no verified peer."""
    if not peercert:
        return None
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value.encode("utf-8").decode("latin-1")
    return None


def _readable_file(option: ConfigOption, directory: Path) -> Path:
    path = Path(option.as_str())
    if not path.is_absolute():
        path = directory / path
    try:
        with path.open("rb"):
            pass
    except OSError as error:
        raise ConfigValueError(
            option.location, f"{option.name} {str(path)!r}: {error.strerror or error}"
        ) from None
    return path


def _load_certificate(
    context: ssl.SSLContext,
    directory: Path,
    use_ssl: ConfigOption,
    certificate: ConfigOption | None,
    key: ConfigOption | None,
) -> None:
    if certificate is None or certificate.as_str().lower() == "none":
        raise ConfigValueError(
            use_ssl.location, "Use_SSL = true needs TLS_Certificate (a PEM certificate file)"
        )
    certificate_path = _readable_file(certificate, directory)
    key_path = _readable_file(key, directory) if key is not None else None
    try:
        context.load_cert_chain(str(certificate_path), None if key_path is None else str(key_path))
    except ssl.SSLError as error:
        blamed = key or certificate
        what = "does not match the certificate" if "MISMATCH" in str(error) else "is not usable"
        raise ConfigValueError(
            blamed.location,
            f"{blamed.name} {str(key_path or certificate_path)!r}: the key {what} "
            f"({error.reason or error}); TLS_Key names the key when the certificate "
            "file does not hold it",
        ) from None


def _verify_mode(option: ConfigOption | None, client_ca: ConfigOption | None) -> ssl.VerifyMode:
    """``none`` / ``require`` / unset = optional, and optional only means something with a
    CA to verify against (our decision: docs/request-lifecycle.md#tls)."""
    if option is None:
        return ssl.CERT_OPTIONAL if client_ca is not None else ssl.CERT_NONE
    word = option.as_str().lower()
    if word not in _VERIFY_MODES:
        raise ConfigValueError(
            option.location, f"TLS_Verify_Mode {option.as_str()!r}: use none or require "
            "(leave it unset for optional)"
        )
    if _VERIFY_MODES[word] == ssl.CERT_REQUIRED and client_ca is None:
        raise ConfigValueError(
            option.location, "TLS_Verify_Mode = require needs TLS_Client_CA to verify "
            "client certificates against"
        )
    return _VERIFY_MODES[word]


def _version_range(option: ConfigOption) -> tuple[ssl.TLSVersion, ssl.TLSVersion]:
    """``+ALL:-SSLv3:-TLSv1.0`` → the lowest and highest TLS version left enabled; a
    token without a sign adds. Python can only express a contiguous range."""
    enabled: set[ssl.TLSVersion] = set()
    for token in filter(None, option.as_str().split(":")):
        sign, name = (token[0], token[1:]) if token[0] in "+-" else ("+", token)
        name = name.lower()
        if name == "all":
            versions = set(_VERSION_ORDER)
        elif name in _TLS_VERSIONS:
            versions = {_TLS_VERSIONS[name]}
        elif name in _NEVER_NEGOTIATED:
            versions = set()
        else:
            raise ConfigValueError(
                option.location, f"TLS_Protocols: unknown protocol {token!r} (use ALL, SSLv2, "
                "SSLv3, TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3 with + or -)"
            )
        enabled = enabled | versions if sign == "+" else enabled - versions
    chosen = [version for version in _VERSION_ORDER if version in enabled]
    if not chosen:
        raise ConfigValueError(
            option.location, f"TLS_Protocols {option.as_str()!r} enables no TLS version"
        )
    low, high = _VERSION_ORDER.index(chosen[0]), _VERSION_ORDER.index(chosen[-1])
    if len(chosen) != high - low + 1:
        raise ConfigValueError(
            option.location, f"TLS_Protocols {option.as_str()!r}: only a contiguous range of "
            "TLS versions can be enabled here"
        )
    return chosen[0], chosen[-1]
