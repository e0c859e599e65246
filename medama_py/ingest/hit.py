"""The three tracker payloads of /api/event/hit (docs/tracker.md#hits), decoded with msgspec."""

from __future__ import annotations

from typing import Annotated

import msgspec

from medama_py.jsonbody import decode_strictly

__all__ = ["MAX_DURATION_MS", "CustomHit", "Hit", "LoadHit", "Properties", "UnloadHit", "decode_hit"]

# duration_ms is a DuckDB UINTEGER: anything outside 1..2^32-1 is a 400 (docs/compatibility.md#durations).
MAX_DURATION_MS = 2**32 - 1

# Property values: strings, booleans and integers that fit Go's int64. null, floats, arrays → 400.
PropertyValue = str | Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)] | bool
Properties = dict[str, PropertyValue]


class LoadHit(msgspec.Struct, tag_field="e", tag="load", frozen=True):
    b: str
    u: str
    p: bool
    q: bool
    r: str = ""
    t: str = ""
    d: Properties | msgspec.UnsetType = msgspec.UNSET


class UnloadHit(msgspec.Struct, tag_field="e", tag="unload", frozen=True):
    b: str
    m: Annotated[int, msgspec.Meta(gt=0, le=MAX_DURATION_MS)]


class CustomHit(msgspec.Struct, tag_field="e", tag="custom", frozen=True):
    g: str
    d: Properties
    b: str = ""


Hit = LoadHit | UnloadHit | CustomHit

_decoder = msgspec.json.Decoder(Hit)


def decode_hit(body: bytes) -> Hit:
    """Decode one JSON payload (unknown keys ignored, exactly one value).

    Raises:
        BadRequest: empty body, invalid JSON or UTF-8, wrong types, or an unknown event type.
    """
    hit: Hit = decode_strictly(_decoder.decode, body)
    return hit
