"""Every way hostile JSON can fail becomes a 400, for admin bodies and event hits alike."""

from __future__ import annotations

import msgspec
import pytest

from medama_py.errors import BadRequest
from medama_py.ingest.hit import decode_hit
from medama_py.jsonbody import decode_strictly

DEEP_OBJECT = b'{"a":' * 5000 + b"1" + b"}" * 5000
DEEP_ARRAY = b"[" * 100_000 + b"]" * 100_000


# Only our own words are asserted: after "decode request: " msgspec may phrase its reason as it likes
# (0.23 reworded bad UTF-8, and an upgrade must not break a test over a library's wording).
@pytest.mark.parametrize(
    ("body", "ours"),
    [
        (b"", "decode request: body required"),
        (b"{", "decode request: "),
        (b'{"b":1}', "decode request: validate: "),
        (b'{"b":"\xff"}', "decode request: "),
        (DEEP_OBJECT, "decode request: JSON is nested too deeply"),
    ],
)
def test_decode_strictly_turns_failures_into_bad_request(body: bytes, ours: str) -> None:
    class Body(msgspec.Struct):
        b: str

    with pytest.raises(BadRequest) as caught:
        decode_strictly(lambda raw: msgspec.convert(msgspec.json.decode(raw), type=Body), body)
    assert caught.value.status_code == 400
    assert caught.value.detail.startswith(ours)


@pytest.mark.parametrize("body", [DEEP_OBJECT, DEEP_ARRAY, b'{"e":"load","b":"\xff"}', b"", b"null"])
def test_hostile_hit_bodies_are_bad_requests(body: bytes) -> None:
    with pytest.raises(BadRequest):
        decode_hit(body)


def test_valid_body_decodes() -> None:
    assert decode_strictly(msgspec.json.decode, b'{"a":[1,2]}') == {"a": [1, 2]}
