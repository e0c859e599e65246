"""One hit from body to disk: decode, run the pipeline, hand the outcome to the group-commit writer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.errors import BadRequest, UnsupportedMediaType
from medama_py.ingest.hit import decode_hit
from medama_py.ingest.pipeline import NewDuration, NewEvents, NewView, process
from medama_py.jsonbody import media_type

if TYPE_CHECKING:
    import asyncio

    from medama_py.ingest.pipeline import HitContext, IngestDeps
    from medama_py.storage.writer import HitWriter

__all__ = ["HIT_MEDIA_TYPES", "check_hit_content_type", "record_hit"]

# Real trackers send text/plain (fetch no-cors, sendBeacon); JSON clients send application/json
# (docs/compatibility.md#hit-bodies).
HIT_MEDIA_TYPES = frozenset({"application/json", "text/plain"})


def check_hit_content_type(content_type: str | None) -> None:
    """Raise 400 for a missing Content-Type and 415 for one other than JSON or plain text."""
    media = media_type(content_type)
    if not media:
        raise BadRequest("parse media type: mime: no media type")
    if media not in HIT_MEDIA_TYPES:
        raise UnsupportedMediaType(f"decode request: unexpected Content-Type: {media}")


def record_hit(body: bytes, ctx: HitContext, deps: IngestDeps, writer: HitWriter) -> asyncio.Future[None] | None:
    """Decode and process one hit and queue its writes; return their pending commit, None if it was dropped.

    Raises:
        MedamaError: the 400/404 answers of the pipeline and the payload decoder.
    """
    outcome = process(decode_hit(body), ctx, deps)
    if isinstance(outcome, NewView):
        return writer.add_view(outcome.view, outcome.events)
    if isinstance(outcome, NewDuration):
        return writer.set_duration(outcome.bid, outcome.duration_ms, at=ctx.now)
    if isinstance(outcome, NewEvents):
        return writer.add_events(outcome.events)
    return None
