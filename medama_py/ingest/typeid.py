"""TypeIDs (`event_01j…`): a prefix and a UUIDv7 in Crockford base32, as Medama's batch ids."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["new_typeid"]

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _uuid7(now: datetime) -> int:
    millis = int(now.timestamp() * 1000) & ((1 << 48) - 1)
    rand_a = secrets.randbits(12)
    rand_b = secrets.randbits(62)
    # Layout: 48-bit ms timestamp, version 7, 12 random bits, variant 0b10, 62 random bits.
    return (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b


def new_typeid(prefix: str, now: datetime) -> str:
    """Return `<prefix>_<26 base32 chars>` for a fresh UUIDv7 stamped with `now`."""
    value = _uuid7(now)
    # 26 characters hold 130 bits; the first one carries only the top 3 bits, so it is 0-7.
    chars = [_ALPHABET[(value >> (5 * (25 - i))) & 31] for i in range(26)]
    return f"{prefix}_{''.join(chars)}"
