"""Request bodies, shared by ingestion and the admin API: the media type, and strict JSON decoding.

Any malformed input is a 400, never a 500. JSON is decoded once, straight into the target type, by one
msgspec Decoder per type: "true" is never taken for true, nor 1 for a boolean.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from medama_py.errors import BadRequest

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["decode_json_body", "decode_strictly", "media_type"]

T = TypeVar("T")


def decode_strictly(decode: Callable[[bytes], T], body: bytes) -> T:
    """Run `decode(body)`, turning every way msgspec can fail on hostile input into BadRequest."""
    if not body:
        raise BadRequest("decode request: body required")
    try:
        return decode(body)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"decode request: validate: {exc}") from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"decode request: {exc}") from None
    except UnicodeDecodeError:
        # msgspec decodes strings lazily and reports bad UTF-8 inside them this way, not as a DecodeError.
        raise BadRequest("decode request: invalid UTF-8 in body") from None
    except RecursionError:
        # Very deep nesting ({"a":{"a":… thousands deep) exhausts msgspec's recursion limit.
        raise BadRequest("decode request: JSON is nested too deeply") from None


def media_type(content_type: str | None) -> str:
    """The `type/subtype` of a Content-Type header, lower-cased, without parameters; "" when there is none."""
    return (content_type or "").split(";", 1)[0].strip().lower()


@functools.cache
def _decoder(body_type: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(body_type)


def decode_json_body(body: bytes, body_type: Any) -> Any:
    """Decode `body` into `body_type` in one strict pass, or raise BadRequest."""
    decoder = _decoder(body_type)

    def decode(raw: bytes) -> Any:
        # msgspec skips unknown fields without reading their strings, so bad UTF-8 there would pass unseen.
        raw.decode("utf-8")
        return decoder.decode(raw)

    return decode_strictly(decode, body)
