"""HTTP API: one module per openapi.yaml tag; handlers stay thin."""

from __future__ import annotations
