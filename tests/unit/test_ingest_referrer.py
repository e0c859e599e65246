"""Page URL, referrer host and group, and UTM parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medama_py.ingest.referrer import (
    PageURL,
    Referrer,
    URLError,
    is_spam_referrer,
    normalise_path,
    parse_page_url,
    parse_referrer,
    referrer_group,
    utm_values,
)

PAGE_URLS = [
    ("https://example.com/", PageURL("example.com", "/", "")),
    ("https://example.com", PageURL("example.com", "", "")),
    ("https://example.com:8080/a/b/", PageURL("example.com", "/a/b/", "")),
    ("https://Example.COM/x", PageURL("Example.COM", "/x", "")),
    ("https://example.com/#/about", PageURL("example.com", "/#/about", "")),
    ("https://example.com/p?x=1#f", PageURL("example.com", "/p", "x=1#f")),
    ("https://example.com/caf%C3%A9", PageURL("example.com", "/café", "")),
    ("https://user:pw@example.com/", PageURL("example.com", "/", "")),
    ("http://[::1]:8080/x", PageURL("::1", "/x", "")),
    ("/just/a/path?q=1", PageURL("", "/just/a/path", "q=1")),
    ("//example.com/x", PageURL("", "//example.com/x", "")),
    ("mailto:someone", PageURL("", "", "")),
]


@pytest.mark.parametrize(("raw", "expected"), PAGE_URLS)
def test_parse_page_url(raw: str, expected: PageURL) -> None:
    assert parse_page_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "example.com/x",
        ":foo",
        "https://ex.com:abc/",
        "https://a b.com/",
        "https://ex.com/%zz",
        "https://ex.com/\x00",
    ],
)
def test_bad_page_url(raw: str) -> None:
    with pytest.raises(URLError):
        parse_page_url(raw)


@pytest.mark.parametrize(
    ("path", "stored"), [("/", "/"), ("", ""), ("/a/", "/a"), ("/a//", "/a/"), ("/a", "/a"), ("/#/x/", "/#/x")]
)
def test_normalise_path(path: str, stored: str) -> None:
    assert normalise_path(path) == stored


REFERRERS = [
    ("", Referrer("", "")),
    ("https://www.google.com/", Referrer("www.google.com", "Google")),
    ("https://google.com/search?q=x", Referrer("google.com", "Google")),
    ("https://duckduckgo.com/", Referrer("duckduckgo.com", "DuckDuckGo")),
    ("https://github.com/medama-io", Referrer("github.com", "GitHub")),
    ("https://t.co/abc", Referrer("t.co", "Twitter")),
    ("https://news.ycombinator.com/item?id=1", Referrer("news.ycombinator.com", "Hacker News")),
    ("https://WWW.Google.com/", Referrer("WWW.Google.com", "Google")),
    ("https://blog.example.org/post", Referrer("blog.example.org", "")),
    ("https://example.com/other", Referrer("", "")),  # self-referral
    ("https://www.example.com/other", Referrer("www.example.com", "")),  # no www. folding
    ("http://1.2.3.4/x", Referrer("", "")),
    ("http://[2001:db8::1]/x", Referrer("", "")),
    ("https://google.com:443/", Referrer("google.com", "Google")),
    ("google.com", Referrer("", "")),  # relative reference: no host
    ("//t.co/x", Referrer("t.co", "Twitter")),
    ("android-app://com.google.android.gm/", Referrer("com.google.android.gm", "Gmail")),
]


@pytest.mark.parametrize(("raw", "expected"), REFERRERS)
def test_parse_referrer(raw: str, expected: Referrer) -> None:
    assert parse_referrer(raw, "example.com") == expected


@pytest.mark.parametrize(
    "raw", [":nope", "1a:b", "https://ex.com:abc/", "https://a b.com/", "https://ex.com/%zz", "https://ex.com/\x7f"]
)
def test_unparsable_referrer(raw: str) -> None:
    with pytest.raises(URLError):
        parse_referrer(raw, "example.com")


ESCAPED_CONTROLS = ["%01", "%09", "%0A", "%0a", "%0D", "%1F", "%7F"]


@pytest.mark.parametrize("escaped", ESCAPED_CONTROLS)
def test_escaped_control_characters_in_a_page_url_are_refused_like_raw_ones(escaped: str) -> None:
    for raw in (
        f"https://ex.com/a{escaped}b",
        f"/a{escaped}b",
        f"https://ex.com/#/a{escaped}",
        f"https://ex{escaped}.com/",
    ):
        with pytest.raises(URLError, match="invalid escaped control character in URL"):
            parse_page_url(raw)


@pytest.mark.parametrize("escaped", ESCAPED_CONTROLS)
def test_escaped_control_characters_in_a_referrer_host_are_refused_but_not_in_its_path(escaped: str) -> None:
    with pytest.raises(URLError, match="control character"):
        parse_referrer(f"https://bad{escaped}.example/", "example.com")
    # Only the referrer's host is stored: its path may hold anything Go's parser accepts.
    assert parse_referrer(f"https://blog.example.org/a{escaped}b", "example.com") == Referrer("blog.example.org", "")


def test_escaped_nul_keeps_its_own_message() -> None:
    with pytest.raises(URLError, match="NUL"):
        parse_page_url("https://ex.com/a%00%0Ab")


def test_referrer_group_lookup_is_case_insensitive_and_strips_www() -> None:
    assert referrer_group(" WWW.BING.COM ") == "Bing"
    assert referrer_group("google.co.uk") == "Google"
    assert referrer_group("unknown.example") == ""


def test_spam_lookup() -> None:
    spam = frozenset({"spam.example"})
    assert is_spam_referrer("WWW.Spam.Example", spam)
    assert not is_spam_referrer("ok.example", spam)
    assert not is_spam_referrer("spam.example", frozenset())


UTMS = [
    ("", ("", "", "")),
    ("utm_source=news&utm_medium=email&utm_campaign=spring", ("news", "email", "spring")),
    ("utm_source=a+b&utm_source=second", ("a b", "", "")),
    ("utm_source=%E2%9C%93", ("✓", "", "")),
    ("utm_medium=%zz&utm_campaign=x;y&utm_source=ok", ("ok", "", "")),
    ("UTM_SOURCE=upper&utm_term=x", ("", "", "")),
    ("x=1&utm_campaign=c#frag", ("", "", "c#frag")),
    ("utm_source", ("", "", "")),
    ("utm_source=a%0Ab%09c&utm_medium=%0D%0A&utm_campaign=x%00%7Fy", ("abc", "", "xy")),  # no control stored
]


@pytest.mark.parametrize(("query", "expected"), UTMS)
def test_utm_values(query: str, expected: tuple[str, str, str]) -> None:
    assert utm_values(query) == expected


@given(st.text(max_size=200))
def test_referrer_parsing_only_raises_url_error(raw: str) -> None:
    try:
        result = parse_referrer(raw, "example.com")
    except URLError:
        return
    assert isinstance(result.host, str)


@given(st.text(max_size=200))
def test_page_url_parsing_only_raises_url_error(raw: str) -> None:
    try:
        parse_page_url(raw)
    except URLError:
        return
