"""TypeIDs as Medama writes them: `<prefix>_<26 lowercase Crockford base32 chars of a UUIDv7>`."""

from __future__ import annotations

import base64
import re
import time
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medama_py.ids import new_typeid

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_SUFFIX = re.compile(r"^[0-7][0-9a-hjkmnp-tv-z]{25}$")


def _decode(suffix: str) -> uuid.UUID:
    value = 0
    for char in suffix:
        value = value * 32 + _ALPHABET.index(char)
    return uuid.UUID(int=value)


@pytest.mark.parametrize("prefix", ["user", "sess", "event"])
def test_shape(prefix: str) -> None:
    typeid = new_typeid(prefix)
    head, _, suffix = typeid.partition("_")
    assert head == prefix
    assert _SUFFIX.match(suffix), typeid
    assert len(typeid) == len(prefix) + 27


def test_known_example_decodes_as_uuid7() -> None:
    # An id from a Medama database round-trips through our decoder as a version-7 UUID.
    assert _decode("01h455vb4pex5vsknk084sn02q").version == 7


@given(st.integers(min_value=0, max_value=(1 << 48) - 1))
def test_suffix_is_a_uuid7_carrying_the_millisecond_timestamp(now_ms: int) -> None:
    decoded = _decode(new_typeid("user", now_ms).partition("_")[2])
    assert decoded.version == 7
    assert decoded.variant == uuid.RFC_4122
    assert decoded.int >> 80 == now_ms


def test_default_timestamp_is_now() -> None:
    before = time.time_ns() // 1_000_000
    decoded = _decode(new_typeid("event").partition("_")[2])
    after = time.time_ns() // 1_000_000
    assert before <= decoded.int >> 80 <= after


@given(st.integers(min_value=0, max_value=(1 << 48) - 1))
def test_the_digits_are_base32_of_the_uuid(now_ms: int) -> None:
    # The RFC 4648 encoding of the 128 bits (left-padded to 160), in Crockford's digits: how ids were made before.
    suffix = new_typeid("event", now_ms).partition("_")[2]
    value = _decode(suffix).int
    crockford = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())
    assert suffix == base64.b32encode(value.to_bytes(20, "big"))[6:].translate(crockford).decode()


def test_ids_are_unique_and_sort_by_time() -> None:
    ids = [new_typeid("user", 1_700_000_000_000 + i) for i in range(200)]
    assert len(set(ids)) == 200
    assert ids == sorted(ids)
    same_ms = {new_typeid("user", 1_700_000_000_000) for _ in range(1000)}
    assert len(same_ms) == 1000
