"""Random ids: TypeIDs as Medama writes them, and the random bytes our ids are made from.

A TypeID is `<prefix>_<26 lowercase Crockford base32 chars of a UUIDv7>`.
"""

from __future__ import annotations

import os
import threading
import time

__all__ = ["new_typeid", "random_bytes"]

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
# Two digits per 10 bits: a TypeID's 26 digits are 1 + 12 pairs + 1 (3 + 120 + 5 bits), built with 14 lookups
# (base64.b32encode is Python code: 3.5 us an id against 1.7; a Umami custom event makes one per hit).
_PAIRS = tuple(high + low for high in _ALPHABET for low in _ALPHABET)

# The operating system's random bytes, read 4 KiB at a time. os.urandom releases the GIL around its system
# call, and on a busy server the writer's threads take the GIL then: each call on the event loop cost a GIL
# hand-over (a page view collected over /umami/api/send made one to two of them). Same bytes, fewer calls.
_POOL_BYTES = 4096
_pool = b""
_offset = 0
_pool_lock = threading.Lock()


def _forget_pool() -> None:
    global _pool, _offset  # the module's one pool, reset in a forked child
    _pool, _offset = b"", 0


# A forked child must not hand out the bytes its parent also holds.
os.register_at_fork(after_in_child=_forget_pool)


def random_bytes(size: int) -> bytes:
    """`size` (at most 4,096) bytes from the operating system's random source, as os.urandom."""
    global _pool, _offset  # the module's one pool
    with _pool_lock:
        end = _offset + size
        if end > len(_pool):
            _pool, _offset, end = os.urandom(max(_POOL_BYTES, size)), 0, size
        chunk = _pool[_offset:end]
        _offset = end
    return chunk


def _uuid7_int(now_ms: int) -> int:
    rand = int.from_bytes(random_bytes(10)) >> 6  # 74 random bits
    value = (now_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= (rand >> 62) << 64  # 12 random bits (rand_a)
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)  # 62 random bits (rand_b)
    return value


def new_typeid(prefix: str, now_ms: int | None = None) -> str:
    """Return a new TypeID such as `user_01h455vb4pex5vsknk084sn02q`."""
    v = _uuid7_int(time.time_ns() // 1_000_000 if now_ms is None else now_ms)
    # 128 bits in 26 base32 digits, most significant first; the first digit carries only 3 bits.
    p = _PAIRS
    return (
        f"{prefix}_{_ALPHABET[v >> 125]}{p[(v >> 115) & 1023]}{p[(v >> 105) & 1023]}{p[(v >> 95) & 1023]}"
        f"{p[(v >> 85) & 1023]}{p[(v >> 75) & 1023]}{p[(v >> 65) & 1023]}{p[(v >> 55) & 1023]}{p[(v >> 45) & 1023]}"
        f"{p[(v >> 35) & 1023]}{p[(v >> 25) & 1023]}{p[(v >> 15) & 1023]}{p[(v >> 5) & 1023]}{_ALPHABET[v & 31]}"
    )
