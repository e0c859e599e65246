"""Which browser origins the operator trusts with the user's cookie (`-corsorigins`), and which are cross-site.

Two uses, one rule (docs/security.md, "Cross-site requests"): the CORS layer grants credentials only to a
trusted origin, and cookie-authenticated changes coming from any other site are refused.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["WILDCARD", "cross_site", "origin_matches", "trusted_with_credentials"]

WILDCARD = "*"


def origin_matches(origin: str, allowed: str) -> bool:
    """rs/cors rules: `*` allows any origin; otherwise one `*` may stand for any text, and the rest is literal.

    Literal matters: `[` in `http://[::1]:5173` is not a character class. Both sides are compared lower-case.
    """
    origin, allowed = origin.lower(), allowed.lower()
    if allowed == WILDCARD:
        return True
    prefix, star, suffix = allowed.partition("*")
    if not star:
        return origin == allowed
    return len(origin) >= len(prefix) + len(suffix) and origin.startswith(prefix) and origin.endswith(suffix)


def trusted_with_credentials(origin: str, allowed: tuple[str, ...]) -> bool:
    """Whether `origin` is named in the list; the bare wildcard names nobody, so it never earns credentials."""
    return any(entry != WILDCARD and origin_matches(origin, entry) for entry in allowed)


def _host_of_origin(origin: str) -> str | None:
    try:
        return urlsplit(origin).hostname
    except ValueError:
        return None


def _host_of_header(host: str) -> str | None:
    try:
        return urlsplit(f"//{host}").hostname
    except ValueError:
        return None


def cross_site(*, fetch_site: str | None, origin: str | None, host: str | None) -> bool:
    """Whether a browser says the request comes from another site.

    `Sec-Fetch-Site` (every current browser sends it) is believed first. Without it, an `Origin` whose host
    differs from the `Host` the request was sent to is another site (ports aside, as for cookies); an opaque
    `null` origin is too. A request with neither header did not come from a page on another site.
    """
    if fetch_site is not None:
        return fetch_site.strip().lower() == "cross-site"
    if origin is None:
        return False
    origin_host = _host_of_origin(origin.strip())
    return origin_host is None or origin_host != _host_of_header(host or "")
