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
import hashlib
import hmac
import struct
import uuid
from dataclasses import dataclass, replace

__all__ = ["VISIT_SECONDS", "Visit", "VisitTokens", "page_bit"]

# A visit ends 30 minutes after it started, as in Umami.
VISIT_SECONDS = 30 * 60

_LAYOUT = struct.Struct(">16s16s16sQ16sQQ")
_MAC_BYTES = 16
_TOKEN_BYTES = _LAYOUT.size + _MAC_BYTES
_TOKEN_CHARS = len(base64.urlsafe_b64encode(bytes(_TOKEN_BYTES)).rstrip(b"="))
_NO_VIEW = bytes(16)


def page_bit(path: str) -> int:
    """The bit standing for `path` in a visit's 64-bit page map (a collision only under-counts unique pages)."""
    digest = hashlib.blake2b(path.encode("utf-8", "surrogatepass"), digest_size=1).digest()
    return 1 << (digest[0] & 63)


@dataclass(frozen=True, slots=True)
class Visit:
    """One page load's visit as the token carries it; ids are UUIDs."""

    website: uuid.UUID
    session: uuid.UUID
    visit: uuid.UUID
    started_ms: int
    last_view: uuid.UUID | None = None
    last_view_ms: int = 0
    pages: int = 0

    def with_view(self, view: uuid.UUID, at_ms: int, path_bit: int) -> Visit:
        """This visit after a new page view."""
        return replace(self, last_view=view, last_view_ms=at_ms, pages=self.pages | path_bit)


class VisitTokens:
    """Signs and reads visit tokens under one server secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the visit token secret needs at least 32 bytes")
        self._secret = secret

    def _mac(self, data: bytes) -> bytes:
        return hmac.new(self._secret, data, hashlib.sha256).digest()[:_MAC_BYTES]

    def sign(self, visit: Visit) -> str:
        data = _LAYOUT.pack(
            visit.website.bytes,
            visit.session.bytes,
            visit.visit.bytes,
            visit.started_ms,
            visit.last_view.bytes if visit.last_view else _NO_VIEW,
            visit.last_view_ms,
            visit.pages,
        )
        return base64.urlsafe_b64encode(data + self._mac(data)).rstrip(b"=").decode("ascii")

    def read(self, token: str | None) -> Visit | None:
        """The visit in a token this server signed; None for anything else (absent, malformed, forged)."""
        if not token or len(token) != _TOKEN_CHARS:
            return None
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
        return Visit(
            uuid.UUID(bytes=website),
            uuid.UUID(bytes=session),
            uuid.UUID(bytes=visit),
            started,
            None if view == _NO_VIEW else uuid.UUID(bytes=view),
            view_ms,
            pages,
        )

    def distinct_session(self, website: uuid.UUID, distinct_id: str) -> uuid.UUID:
        """The session of a site's distinct id: a keyed hash, stable across visits, opaque without the secret."""
        digest = hmac.new(
            self._secret, b"session\x00" + website.bytes + distinct_id.encode("utf-8", "surrogatepass"), hashlib.sha256
        ).digest()
        # Shaped as a UUID of version 8 (custom), RFC 4122 variant.
        value = int.from_bytes(digest[:16], "big")
        value = (value & ~(0xF << 76)) | (0x8 << 76)
        value = (value & ~(0x3 << 62)) | (0x2 << 62)
        return uuid.UUID(int=value)
