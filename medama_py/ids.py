"""TypeIDs as Medama writes them: `<prefix>_<26 lowercase Crockford base32 chars of a UUIDv7>`."""

from __future__ import annotations

import secrets
import time

__all__ = ["new_typeid"]

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _uuid7_int(now_ms: int) -> int:
    rand = secrets.randbits(74)
    value = (now_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= (rand >> 62) << 64  # 12 random bits (rand_a)
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)  # 62 random bits (rand_b)
    return value


def new_typeid(prefix: str, now_ms: int | None = None) -> str:
    """Return a new TypeID such as `user_01h455vb4pex5vsknk084sn02q`."""
    value = _uuid7_int(time.time_ns() // 1_000_000 if now_ms is None else now_ms)
    # 128 bits in 26 base32 digits: the first digit carries only 3 bits.
    chars = [_ALPHABET[(value >> (5 * i)) & 31] for i in range(25, -1, -1)]
    return f"{prefix}_{''.join(chars)}"
