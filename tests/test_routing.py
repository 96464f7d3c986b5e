"""Handler lookup (docs/request-lifecycle.md#dispatch): registration order, exact method or any,
segment-aware prefix, trailing slash optional."""

import errno

import pytest

from momentum_httpsrv.httpsrv.routing import EndpointRegistry, normalise_base_path


@pytest.mark.parametrize(
    ("registered", "expected"),
    [("/foo", "/foo/"), ("/foo/", "/foo/"), ("foo", "/foo/"), ("/", "/")],
)
def test_normalise_base_path(registered, expected):
    assert normalise_base_path(registered) == expected


@pytest.mark.parametrize(
    ("method", "path", "winner"),
    [
        ("GET", "/foo", "get-foo"),
        ("GET", "/foo/", "get-foo"),
        ("GET", "/foo/bar/baz", "get-foo"),
        ("GET", "/foobar", "root-any"),  # not a child of /foo
        ("POST", "/foo", "any-foo"),
        ("get", "/foo", "any-foo"),  # methods are case-sensitive
        ("GET", "/", "root-any"),
        ("DELETE", "/elsewhere", "root-any"),
    ],
)
def test_first_matching_registration_wins(method, path, winner):
    registry = EndpointRegistry()
    registry.register("GET", "/foo", "get-foo")
    registry.register(None, "/foo/", "any-foo")
    registry.register("GET", "/foo", "shadowed")
    registry.register(None, "/", "root-any")
    assert registry.match(method, path).handler == winner


def test_no_match_and_errors():
    warnings = []
    registry = EndpointRegistry(warn=warnings.append)
    assert registry.match("GET", "/x") is None
    assert registry.register("GET", "", "h") == errno.EINVAL
    assert registry.register("GET", "/x", None) == errno.EINVAL
    assert registry.register("GET", "/x", "h", instance="vhost") == errno.EINVAL
    assert registry.register("GET", "x", "h") == 0
    assert registry.register("GET", "/x/", "h2") == 0
    assert len(registry) == 2
    assert any("no leading '/'" in w for w in warnings)
    assert any("registered again" in w for w in warnings)
