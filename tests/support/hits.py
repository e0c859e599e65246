"""The one factory for tracker hits: `/api/event/hit` bodies as the tracker sends them.

`make_hit(**overrides)` is a page load, `make_unload(bid, ms)` the time spent on it, `make_custom(hostname,
properties)` a custom event.

Tests that store page views through ingestion (the pipeline's unit tests, the end-to-end checks of what
reaches the analytics file) build their bodies here; rows written straight into a file come from
tests/support/rows.py.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["make_custom", "make_hit", "make_unload"]


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


def make_unload(bid: str = "bid1", ms: int = 3000) -> bytes:
    """The unload that closes `bid`'s page view after `ms` milliseconds on the page."""
    return msgspec.json.encode({"b": bid, "e": "unload", "m": ms})


def make_custom(hostname: str, properties: dict[str, Any], bid: str = "bid1") -> bytes:
    """A custom event of `hostname` with its properties, tied to `bid`'s page view."""
    return msgspec.json.encode({"b": bid, "e": "custom", "g": hostname, "d": properties})
