"""Strict JSON decoding shared by every endpoint with a JSON body: any malformed input is a 400, never a 500."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import msgspec

from medama_py.errors import BadRequest

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["decode_strictly"]

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
