"""The visit token: what an Umami-style client keeps in memory instead of a cookie (docs/privacy.md).

Every accepted /umami/api/send answers `{"cache": token, ...}`; the tracker sends the token back as the
`x-umami-cache` header on the same page's later hits. The token is opaque to the client and signed with
HMAC-SHA256 under a secret kept in the meta database, so a client cannot forge one for another site or
session. It holds no IP address, nothing from the User-Agent and nothing the browser stores.

Layout (big-endian, then the first 16 bytes of the HMAC), base64url without padding:
website, session and visit ids (16 bytes each), visit start (ms), the visit's latest page view id
(16 bytes, zeros for none) and its start (ms), and a 64-bit map of the paths viewed in the visit.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import struct
from typing import Generic, NamedTuple, TypeVar

from medama_py.ids import random_bytes

__all__ = ["VISIT_SECONDS", "Visit", "VisitTokens", "new_time_uuid", "new_uuid", "page_bit"]

# A visit ends 30 minutes after it started, as in Umami.
VISIT_SECONDS = 30 * 60

_LAYOUT = struct.Struct(">16s16s16sQ16sQQ")
_MAC_BYTES = 16
_TOKEN_BYTES = _LAYOUT.size + _MAC_BYTES
_TOKEN_CHARS = len(base64.urlsafe_b64encode(bytes(_TOKEN_BYTES)).rstrip(b"="))
_NO_VIEW = bytes(16)
_URLSAFE = bytes.maketrans(b"+/", b"-_")
K = TypeVar("K")
V = TypeVar("V")

# Ids travel as canonical UUID text (what the rows and the answers hold); these convert without uuid.UUID,
# which costs several microseconds per id on the hot path.


def _format(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# For ids read from tokens: a visit's ids (website, session, visit, latest view) come back with every hit.
_text = functools.lru_cache(maxsize=16384)(_format)


def _parse(text: str) -> bytes:
    return bytes.fromhex(text.replace("-", ""))


# For ids written into tokens: a visit's website, session and visit ids are signed again with every hit.
_raw = functools.lru_cache(maxsize=16384)(_parse)


# The hex digit that starts a UUID's fourth group, by the random digit it replaces: RFC 4122's variant (10xx).
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def new_uuid() -> str:
    """A random (version 4) UUID as text."""
    h = random_bytes(16).hex()  # the version and variant set in the text: 0.85 us against 1.16 through bytes
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


def new_time_uuid(at_ms: int) -> str:
    """A time-ordered (version 7) UUID as text: the milliseconds since 1970 first, then randomness.

    Page view ids (`views.bid`) are these: ids of one period sort together, so a lookup of recent bids reads
    only the newest row groups of `views` (DuckDB skips the others by their min/max bid). With random ids,
    the writer's keyed duration update read the whole table: 20.8 ms against 4.3 ms per batch at 500k views.
    """
    t = "%012x" % (at_ms & 0xFFFF_FFFF_FFFF)
    h = random_bytes(10).hex()
    return f"{t[:8]}-{t[8:]}-7{h[1:4]}-{_VARIANT[h[4]]}{h[5:8]}-{h[8:]}"


def page_bit(path: str) -> int:
    """The bit standing for `path` in a visit's 64-bit page map (a collision only under-counts unique pages)."""
    digest = hashlib.blake2b(path.encode("utf-8", "surrogatepass"), digest_size=1).digest()
    return 1 << (digest[0] & 63)


class Visit(NamedTuple):
    """One page load's visit as the token carries it; ids are lower-case UUID text.

    A NamedTuple, like the other per-hit values of Umami collection: as immutable as a frozen dataclass and
    about three times cheaper to build (a frozen dataclass sets each field through object.__setattr__).
    """

    website: str
    session: str
    visit: str
    started_ms: int
    last_view: str | None = None
    last_view_ms: int = 0
    pages: int = 0

    def with_view(self, view: str, at_ms: int, path_bit: int) -> Visit:
        """This visit after a new page view."""
        return Visit(self.website, self.session, self.visit, self.started_ms, view, at_ms, self.pages | path_bit)

    def with_session(self, session: str, pages: int = 0) -> Visit:
        """This visit under another session (a distinct id), with more pages already seen today."""
        return Visit(
            self.website, session, self.visit, self.started_ms, self.last_view, self.last_view_ms, self.pages | pages
        )


# How many recent tokens VisitTokens remembers (in two generations of half this each way; ~1 MB of dicts and
# token text when full, plus the visits they keep alive): a page's tracker sends its last answer's token back
# with its next hit, seconds or minutes later.
_REMEMBERED_TOKENS = 4096


class _Recent(Generic[K, V]):
    """A bounded memory of recent pairs: two generations, the older dropped whole when the newer fills.

    O(1) each way; a dict that evicts its first key on every insert degrades, as iterating from its start
    walks over the deleted slots.
    """

    def __init__(self, size: int) -> None:
        self._half = max(1, size // 2)
        self._new: dict[K, V] = {}
        self._old: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        found = self._new.get(key)
        return self._old.get(key) if found is None else found

    def put(self, key: K, value: V) -> None:
        if len(self._new) >= self._half:
            self._old, self._new = self._new, {}
        self._new[key] = value


class VisitTokens:
    """Signs and reads visit tokens under one server secret.

    The tokens it signed or verified lately are remembered with their visits: a token sent back is then
    read with one dict lookup (its signature was checked when it was remembered, and a token's meaning never
    changes), and a visit answered again unchanged (a custom event's) gets the same token without signing.
    Reading and signing were ~9 us of a Umami hit's ~35 us of collection (docs/umami.md "Where the time goes").
    """

    def __init__(self, secret: bytes, remembered: int = _REMEMBERED_TOKENS) -> None:
        if len(secret) < 32:
            raise ValueError("the visit token secret needs at least 32 bytes")
        # The key is set up once and copied per message: every hit signs a token and most read one, and
        # `hmac.digest` would set the key up again on each call (~1.5 us against ~1.1 us for a copy).
        self._keyed = hmac.new(secret, digestmod="sha256")
        self._visits: _Recent[str, Visit] = _Recent(remembered)
        self._tokens: _Recent[Visit, str] = _Recent(remembered)

    def _remember(self, token: str, visit: Visit) -> None:
        self._visits.put(token, visit)
        self._tokens.put(visit, token)

    def _hmac(self, data: bytes) -> bytes:
        mac = self._keyed.copy()
        mac.update(data)
        return mac.digest()

    def _mac(self, data: bytes) -> bytes:
        return self._hmac(data)[:_MAC_BYTES]

    def sign(self, visit: Visit) -> str:
        """The token of `visit`: the one remembered for an equal visit, else a newly signed one."""
        token = self._tokens.get(visit)
        if token is None:
            token = self._sign(visit)
            self._remember(token, visit)
        return token

    def _sign(self, visit: Visit) -> str:
        data = _LAYOUT.pack(
            _raw(visit.website),
            _raw(visit.session),
            _raw(visit.visit),
            visit.started_ms,
            _raw(visit.last_view) if visit.last_view else _NO_VIEW,
            visit.last_view_ms,
            visit.pages,
        )
        # base64.urlsafe_b64encode's bytes, without its two Python-level calls.
        return binascii.b2a_base64(data + self._mac(data), newline=False).translate(_URLSAFE).rstrip(b"=").decode()

    def read(self, token: str | None) -> Visit | None:
        """The visit in a token this server signed; None for anything else (absent, malformed, forged)."""
        if not token or len(token) != _TOKEN_CHARS:
            return None
        visit = self._visits.get(token)
        if visit is None:
            visit = self._verify(token)
            if visit is not None:
                self._remember(token, visit)
        return visit

    def _verify(self, token: str) -> Visit | None:
        try:
            text = token.encode("ascii")
            raw = base64.urlsafe_b64decode(text + b"=" * (-len(token) % 4))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            return None
        # Only the one spelling sign() writes: base64 decoding ignores stray characters and unused bits.
        if len(raw) != _TOKEN_BYTES or base64.urlsafe_b64encode(raw).rstrip(b"=") != text:
            return None
        data, mac = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
        if not hmac.compare_digest(mac, self._mac(data)):
            return None
        website, session, visit, started, view, view_ms, pages = _LAYOUT.unpack(data)
        last_view = None if view == _NO_VIEW else _text(view)
        return Visit(_text(website), _text(session), _text(visit), started, last_view, view_ms, pages)

    def distinct_session(self, website: str, distinct_id: str) -> str:
        """The session of a site's distinct id: a keyed hash, stable across visits, opaque without the secret."""
        message = b"session\x00" + _raw(website) + distinct_id.encode("utf-8", "surrogatepass")
        raw = bytearray(self._hmac(message)[:16])
        # Shaped as a UUID of version 8 (custom), RFC 4122 variant.
        raw[6] = (raw[6] & 0x0F) | 0x80
        raw[8] = (raw[8] & 0x3F) | 0x80
        return _format(bytes(raw))
