"""Referrer host and group, page URL parsing and UTM values (docs/tracker.md#hits).

The rules follow Go's net/url, which Medama uses: `u` is a request URI (the fragment is *not* split
off), `r` is parsed leniently and fails only on a few malformed shapes, and hosts keep their case.
"""

from __future__ import annotations

import csv
import functools
import io
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import unquote, unquote_plus

from medama_py.ingest.datafiles import read_data_text

__all__ = [
    "PageURL",
    "Referrer",
    "URLError",
    "drop_control_characters",
    "holds_control_character",
    "is_spam_referrer",
    "normalise_path",
    "parse_page_url",
    "parse_referrer",
    "referrer_group",
    "utm_values",
]


class URLError(ValueError):
    """The URL is malformed in a way Go's net/url rejects."""


@dataclass(frozen=True, slots=True)
class PageURL:
    hostname: str
    path: str
    raw_query: str


@dataclass(frozen=True, slots=True)
class Referrer:
    host: str
    group: str


# Referrers and page URLs repeat heavily (search engines, popular pages); long ones skip the caches so
# hostile input cannot pin memory.
_CACHE_SIZE = 8192
_MAX_CACHED_LEN = 512

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_BAD_ESCAPE_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*", re.ASCII)
# Characters Go allows unescaped in a host (RFC 3986 reg-name/IP-literal plus sub-delims and `<>"`).
_HOST_RE = re.compile(r"""[A-Za-z0-9\-._~!$&'()*+,;=:\[\]<>"%]*|.*[^\x00-\x7f].*""", re.ASCII | re.DOTALL)
_USERINFO_RE = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:%@]*", re.ASCII)


def _unescape(text: str) -> str:
    if _BAD_ESCAPE_RE.search(text):
        raise URLError("invalid URL escape")
    if "%" not in text:
        return text
    decoded = unquote(text, errors="replace")
    if "\x00" in decoded:
        # Refused like a raw NUL: `%00` would otherwise reach the database as one (docs/security.md).
        raise URLError("invalid escaped NUL (%00) in URL")
    return decoded


def _unescape_stored(text: str) -> str:
    """`_unescape` for a part that is stored or matched (a page path, a host): no control character in it.

    Raw control characters are refused before this (as Go's URL parser does); escaped ones (`%0A`, `%09`,
    `%7F` …) are refused the same way, so none reaches a report or an export (docs/security.md).
    """
    decoded = _unescape(text)
    if "%" in text and _CONTROL_RE.search(decoded):
        raise URLError("invalid escaped control character in URL")
    return decoded


def holds_control_character(text: str) -> bool:
    """Whether `text` holds a C0 control character or DEL, the ones a stored URL part may not hold."""
    return _CONTROL_RE.search(text) is not None


def drop_control_characters(text: str) -> str:
    """`text` without C0 control characters and DEL: for decoded query values, which are stored as text."""
    return _CONTROL_RE.sub("", text)


def _split_scheme(raw: str) -> tuple[str, str]:
    """Return (scheme, rest); scheme is "" when the text has none."""
    colon = raw.find(":")
    if colon == 0:
        raise URLError("missing protocol scheme")
    if colon > 0 and _SCHEME_RE.fullmatch(raw[:colon]):
        return raw[:colon], raw[colon + 1 :]
    return "", raw


def _parse_host(authority: str) -> str:
    """Return the hostname of an authority (no userinfo, no port, no IPv6 brackets; case kept)."""
    userinfo, at, hostport = authority.rpartition("@")
    if at and not _USERINFO_RE.fullmatch(userinfo):
        raise URLError("net/url: invalid userinfo")
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise URLError("missing ']' in host")
        host, port = hostport[1:end], hostport[end + 1 :]
        if port and not ((port.startswith(":") and port[1:].isdigit()) or port == ":"):
            raise URLError("invalid port after host")
        return _unescape_stored(host)
    host, colon, port = hostport.rpartition(":")
    if not colon:
        host, port = hostport, ""
    elif port and not (port.isascii() and port.isdigit()):
        raise URLError(f"invalid port {':' + port!r} after host")
    if not _HOST_RE.fullmatch(host):
        raise URLError("invalid character in host name")
    return _unescape_stored(host)


def _authority_and_path(rest: str) -> tuple[str, str]:
    if rest.startswith("//"):
        slash = rest.find("/", 2)
        if slash < 0:
            return rest[2:], ""
        return rest[2:slash], rest[slash:]
    return "", rest


def parse_page_url(raw: str) -> PageURL:
    """Parse `u` as Go's url.ParseRequestURI does: an absolute URL or an absolute path."""
    if len(raw) > _MAX_CACHED_LEN:
        return _parse_page_url(raw)
    return _parse_page_url_cached(raw)


def _parse_page_url(raw: str) -> PageURL:
    if _CONTROL_RE.search(raw):
        raise URLError("invalid control character in URL")
    if raw.startswith("/"):
        # A bare path never has an authority, even `//host/x` (request-URI form).
        path, _, query = raw.partition("?")
        return PageURL("", _unescape_stored(path), query)
    scheme, rest = _split_scheme(raw)
    if not scheme:
        raise URLError("invalid URI for request")
    rest, _, query = rest.partition("?")
    if not rest.startswith("/"):
        # Opaque form such as `mailto:x`: no host, so the site check answers 404.
        return PageURL("", "", query)
    authority, path = _authority_and_path(rest)
    hostname = _parse_host(authority) if rest.startswith("//") else ""
    return PageURL(hostname, _unescape_stored(path), query)


_parse_page_url_cached = functools.lru_cache(maxsize=_CACHE_SIZE)(_parse_page_url)


def normalise_path(path: str) -> str:
    """Drop one trailing slash unless the path is exactly `/` (so `/a//` → `/a/`)."""
    return path[:-1] if path != "/" and path.endswith("/") else path


def _referrer_hostname(raw: str) -> str:
    if _CONTROL_RE.search(raw):
        raise URLError("invalid control character in URL")
    scheme, rest = _split_scheme(raw)
    rest = rest.partition("#")[0].partition("?")[0]
    if not scheme and ":" in rest.partition("/")[0]:
        raise URLError("first path segment in URL cannot contain colon")
    if scheme and not rest.startswith("/"):
        return ""  # opaque reference
    # Go reads an authority after `//`, except in a scheme-less `///path`.
    if rest.startswith("//") and (scheme or not rest.startswith("///")):
        authority, path = _authority_and_path(rest)
        _unescape(path)
        return _parse_host(authority)
    _unescape(rest)
    return ""


@functools.cache
def _groups() -> dict[str, str]:
    table: dict[str, str] = {}
    for row in csv.reader(io.StringIO(read_data_text("referrer-groups.csv"))):
        if len(row) >= 3:
            # First row per domain wins, as in a Go map filled in file order only if absent.
            table.setdefault(row[2].strip().lower(), row[1])
    return table


def _lookup_keys(host: str) -> tuple[str, ...]:
    key = host.strip().lower()
    return (key, key[4:]) if key.startswith("www.") else (key,)


def referrer_group(host: str) -> str:
    """Return the referrer group name for a host (exact, then without `www.`), or ""."""
    groups = _groups()
    for key in _lookup_keys(host):
        if key in groups:
            return groups[key]
    return ""


def is_spam_referrer(host: str, spammers: frozenset[str]) -> bool:
    """Return whether a referrer host is on the spam list (lowercased, then without `www.`)."""
    if not spammers:
        return False
    # Cached (0.08 us against 0.58 a hit): the same referrer hosts come back over and over; a host longer than
    # any DNS name skips the cache, so hostile input cannot fill it.
    return _is_spam(host, spammers) if len(host) > _MAX_HOST_LEN else _is_spam_cached(host, spammers)


_MAX_HOST_LEN = 253


def _is_spam(host: str, spammers: frozenset[str]) -> bool:
    return any(key in spammers for key in _lookup_keys(host))


_is_spam_cached = functools.lru_cache(maxsize=4096)(_is_spam)


_IP_CHARS_RE = re.compile(r"[0-9A-Fa-f:.]+")


def _is_ip_literal(host: str) -> bool:
    # Cheap shape check first: most hosts are names, and ipaddress is slow to reject them.
    if not _IP_CHARS_RE.fullmatch(host):
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _parse_referrer(raw: str, page_hostname: str) -> Referrer:
    host = _referrer_hostname(raw)
    if not host or host == page_hostname or _is_ip_literal(host):
        return Referrer("", "")
    return Referrer(host, referrer_group(host))


_parse_referrer_cached = functools.lru_cache(maxsize=_CACHE_SIZE)(_parse_referrer)


def parse_referrer(raw: str, page_hostname: str) -> Referrer:
    """Return the stored referrer host and group; raise URLError for a URL Go cannot parse."""
    if not raw:
        return Referrer("", "")
    if len(raw) > _MAX_CACHED_LEN:
        return _parse_referrer(raw, page_hostname)
    return _parse_referrer_cached(raw, page_hostname)


def utm_values(raw_query: str) -> tuple[str, str, str]:
    """Return the first utm_source, utm_medium and utm_campaign of a query ("" when absent)."""
    found: dict[str, str] = {}
    if "utm_" not in raw_query:
        return "", "", ""
    for pair in raw_query.split("&"):
        # Go's ParseQuery skips pairs with a `;` or a bad escape instead of failing the whole query.
        if ";" in pair or _BAD_ESCAPE_RE.search(pair):
            continue
        key, _, value = pair.partition("=")
        key = unquote_plus(key)
        if key in {"utm_source", "utm_medium", "utm_campaign"} and key not in found:
            found[key] = drop_control_characters(unquote_plus(value, errors="replace"))
    return found.get("utm_source", ""), found.get("utm_medium", ""), found.get("utm_campaign", "")
