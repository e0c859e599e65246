"""The one factory for tracker hits: `make_hit(**overrides)`, a `/api/event/hit` body as the tracker sends it.

Tests that store page views through ingestion (the pipeline's unit tests, the end-to-end checks of what
reaches the analytics file) build their bodies here; rows written straight into a file come from
tests/support/rows.py.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["make_hit"]


def make_hit(**overrides: Any) -> bytes:
    """A first-visit load of example.com/blog/ from Google with UTM tags in London, changed by `overrides`.

    A key given as `...` is left out of the body.
    """
    payload: dict[str, Any] = {
        "b": "bid1",
        "e": "load",
        "u": "https://example.com/blog/?utm_source=news&utm_medium=mail&utm_campaign=spring",
        "r": "https://www.google.com/",
        "p": True,
        "q": False,
        "t": "Europe/London",
    }
    payload.update(overrides)
    return msgspec.json.encode({k: v for k, v in payload.items() if v is not ...})
