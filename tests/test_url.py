"""ec_parse_url as the session sees it (docs/request-lifecycle.md#the-session-object)."""

import pytest

from momentum_httpsrv.httpsrv.url import UrlParseError, parse_url, plain_path


@pytest.mark.parametrize(
    ("target", "path", "raw_query", "query", "attrs"),
    [
        ("/", "/", None, None, None),
        ("/a/b", "/a/b", None, None, None),
        ("/p?x=1&y=2", "/p", "x=1&y=2", "x=1&y=2", (("x", "1"), ("y", "2"))),
        ("/p?k=a%20b", "/p", "k=a%20b", "k=a b", (("k", "a b")),),
        ("/p?k=a+b", "/p", "k=a+b", "k=a+b", (("k", "a+b"),)),  # + is not a space
        ("/p?k=1&k=2", "/p", "k=1&k=2", "k=1&k=2", (("k", "2"),)),  # last wins
        ("/p?flag", "/p", "flag", "flag", None),  # not k=v: attrs absent
        ("/p?a=1&&b=2", "/p", "a=1&&b=2", "a=1&&b=2", None),  # empty piece
        ("/p?a=%zz", "/p", "a=%zz", "a=%zz", None),  # bad escape
        ("/p?=v", "/p", "=v", "=v", None),  # no key
        ("/p?a=", "/p", "a=", "a=", (("a", ""),)),
        ("/sp%61ce%2Fx", "/space/x", None, None, None),  # path decoded
        ("/p#frag%21", "/p", None, None, None),
    ],
)
def test_origin_form(target, path, raw_query, query, attrs):
    if attrs is not None and isinstance(attrs[0], str):
        attrs = (attrs,)
    url = parse_url(target)
    assert (url.url, url.path, url.raw_query, url.query, url.attrs) == (
        target, path, raw_query, query, attrs,
    )


def test_fragment_and_absolute_form():
    url = parse_url("http://us%65r:pw@Example.com:8080/a?b=c#f%20g")
    assert (url.scheme, url.user, url.password, url.host, url.port) == (
        "http", "user", "pw", "Example.com", 8080,
    )
    assert (url.path, url.raw_query, url.fragment) == ("/a", "b=c", "f g")
    assert parse_url("http://[::1]/x").host == "::1"
    assert parse_url("/x").port == 0


@pytest.mark.parametrize("target", ["relative", "/bad%zzpath", "http://h:port/x"])
def test_unparseable_targets(target):
    with pytest.raises(UrlParseError):
        parse_url(target)


@pytest.mark.parametrize(
    "target", ["/", "/a/b", "/a?x=%zz", "/a?", "*", "/a%20b", "/a#f", "http://h/x", "a", "/a?b#c"]
)
def test_the_plain_path_is_the_parsed_path_or_nothing(target: str) -> None:
    """The dispatcher routes on ``plain_path`` when it gives one: always parse_url's path."""
    plain = plain_path(target)
    if plain is not None:
        assert plain == parse_url(target).path
    else:
        assert target[:1] != "/" or "%" in target.partition("?")[0] or "#" in target
