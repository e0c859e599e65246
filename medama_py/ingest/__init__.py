"""Event ingestion: a hit goes through named steps and comes out Accepted or Dropped(reason)."""

from __future__ import annotations

from medama_py.ingest.ip import IPFilter
from medama_py.ingest.pipeline import Accepted, Dropped, HitContext, IngestDeps, process
from medama_py.ingest.recorder import record_hit

__all__ = ["Accepted", "Dropped", "HitContext", "IPFilter", "IngestDeps", "process", "record_hit"]
