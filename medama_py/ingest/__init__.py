"""Event ingestion: a hit goes through named steps and comes out Accepted or Dropped(reason)."""

from __future__ import annotations
