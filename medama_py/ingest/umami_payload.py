"""The bodies of POST /umami/api/send and /umami/api/batch (docs/umami.md), decoded with msgspec.

Umami's clients (its browser tracker, `@umami/node`, our /umami/script.js) send `{"type", "payload"}`.
Unknown keys are ignored, as Umami strips them (`@umami/node` adds `session`, trackers may add `duration`);
`payload.ip` is among them: the client address is never taken from a body. Optional fields may also be
`null`, which reads as absent. Length limits are Umami's and answer 400; free text is cut to 500 characters
later instead (see ingest/umami.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from medama_py.errors import BadRequest
from medama_py.jsonbody import decode_strictly

__all__ = [
    "MAX_BATCH_ITEMS",
    "EventData",
    "UmamiPayload",
    "UmamiSend",
    "decode_batch",
    "decode_send",
    "flatten_event_data",
]

# A batch is a replay queue (offline apps, server-side senders); this bounds one request's work.
MAX_BATCH_ITEMS = 1000
# Event data: nested keys become `a.b`; these bound what one hit can add to the store.
MAX_DATA_KEYS = 200
MAX_DATA_DEPTH = 8
MAX_TEXT = 500

_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Umami stores strings of this shape as dates (data type 4).
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?")

# Umami's data types for event and session data.
STRING, NUMBER, BOOLEAN, DATE, ARRAY = 1, 2, 3, 4, 5


class UmamiPayload(msgspec.Struct, frozen=True, rename={"user_agent": "userAgent"}):
    website: str
    hostname: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    language: Annotated[str, msgspec.Meta(max_length=35)] | None = None
    referrer: str | None = None
    screen: Annotated[str, msgspec.Meta(max_length=11)] | None = None
    title: str | None = None
    url: str | None = None
    name: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    data: dict[str, Any] | None = None
    tag: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    id: Annotated[str, msgspec.Meta(max_length=MAX_TEXT)] | None = None
    timestamp: int | None = None
    user_agent: str | None = None
    # Sent only by /umami/script.js: the IANA zone (country) and the answers of Medama's two pings.
    tz: str | None = None
    p: bool | None = None
    q: bool | None = None


class _Envelope(msgspec.Struct, frozen=True):
    type: str
    payload: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"null"))


class _Hit(msgspec.Struct, frozen=True):
    """A page view, event or identify body, read in one pass (`decode_send`'s common case)."""

    type: str
    payload: UmamiPayload | None = None


@dataclass(frozen=True, slots=True)
class UmamiSend:
    """One decoded hit; `payload` is None for a `performance` report, which is accepted and ignored."""

    type: str
    payload: UmamiPayload | None


_hit = msgspec.json.Decoder(_Hit)
_envelope = msgspec.json.Decoder(_Envelope)
_payload = msgspec.json.Decoder(UmamiPayload)
# An array; or an object keyed "0".."n-1": @umami/api-client@0.81.0 sends its batch array so (its input
# splitter copies an array's entries into an object).
_batch = msgspec.json.Decoder(list[msgspec.Raw] | dict[str, msgspec.Raw])
_KINDS = frozenset({"event", "identify", "performance"})
_STORED_KINDS = frozenset({"event", "identify"})


def _read_envelope(envelope: _Envelope) -> UmamiSend:
    if envelope.type not in _KINDS:
        raise BadRequest(f"Invalid type: expected event, identify or performance, got {envelope.type[:50]!r}")
    if envelope.type == "performance":
        return UmamiSend("performance", None)
    payload: UmamiPayload = decode_strictly(_payload.decode, bytes(envelope.payload))
    if not _UUID_RE.fullmatch(payload.website):
        raise BadRequest("decode request: validate: website must be a UUID - at `$.payload.website`")
    return UmamiSend(envelope.type, payload)


def decode_send(body: bytes) -> UmamiSend:
    """Decode one `{type, payload}` body.

    Raises:
        BadRequest: empty or invalid JSON, wrong types, over-long fields, an unknown type, a website that is
            not a UUID.
    """
    # Nearly every body is a valid page view or event: one pass reads it. Anything else (a performance report,
    # any fault) is read again in two passes, envelope then payload, which answer Umami's way and say why.
    try:
        hit = _hit.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):  # ValidationError is a DecodeError
        hit = None
    if (
        hit is not None
        and hit.payload is not None
        and hit.type in _STORED_KINDS
        and _UUID_RE.fullmatch(hit.payload.website)
    ):
        return UmamiSend(hit.type, hit.payload)
    envelope: _Envelope = decode_strictly(_envelope.decode, body)
    return _read_envelope(envelope)


def decode_batch(body: bytes) -> list[bytes]:
    """Split a batch body into its items' raw JSON (each is decoded on its own, so one bad item fails alone)."""
    decoded: list[msgspec.Raw] | dict[str, msgspec.Raw] = decode_strictly(_batch.decode, body)
    if isinstance(decoded, dict):
        if list(decoded) != [str(index) for index in range(len(decoded))]:
            raise BadRequest("a batch is an array (or an object keyed 0, 1, ... in order)")
        decoded = list(decoded.values())
    items = decoded
    if len(items) > MAX_BATCH_ITEMS:
        raise BadRequest(f"a batch holds at most {MAX_BATCH_ITEMS} items")
    return [bytes(item) for item in items]


@dataclass(frozen=True, slots=True)
class EventData:
    """One flattened event-data value with Umami's type: the typed columns and Medama's text form."""

    key: str
    data_type: int
    text: str
    number: float | None = None


def _typed(key: str, value: object) -> EventData:
    if isinstance(value, bool):
        return EventData(key, BOOLEAN, "true" if value else "false")
    if isinstance(value, int | float):
        try:
            number: float | None = float(value)
        except OverflowError:  # an integer beyond a double's range keeps its text only
            number = None
        text = str(value) if isinstance(value, int) else msgspec.json.encode(value).decode()
        return EventData(key, NUMBER, text[:MAX_TEXT], number)
    if isinstance(value, list):
        return EventData(key, ARRAY, msgspec.json.encode(value).decode()[:MAX_TEXT])
    text = str(value)[:MAX_TEXT]
    return EventData(key, DATE if _DATE_RE.fullmatch(text) else STRING, text)


def flatten_event_data(data: dict[str, Any]) -> list[EventData]:
    """Flatten nested objects into `a.b` keys, keeping each value's type; nulls are left out.

    Raises:
        BadRequest: more than MAX_DATA_KEYS values or nesting deeper than MAX_DATA_DEPTH.
    """
    flat: list[EventData] = []
    stack: list[tuple[str, dict[str, Any], int]] = [("", data, 1)]
    while stack:
        prefix, node, depth = stack.pop()
        if depth > MAX_DATA_DEPTH:
            raise BadRequest(f"event data is nested deeper than {MAX_DATA_DEPTH} levels")
        for name, value in node.items():
            key = f"{prefix}{name}"[:MAX_TEXT]
            if isinstance(value, dict):
                stack.append((f"{key}.", value, depth + 1))
            elif value is not None:
                flat.append(_typed(key, value))
            if len(flat) > MAX_DATA_KEYS:
                raise BadRequest(f"event data holds more than {MAX_DATA_KEYS} values")
    return flat
