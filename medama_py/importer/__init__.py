"""`medama import`: our own export files back in, and Umami's raw `website_event` + `session` (+ `event_data`) CSVs.

Each import is one DuckDB transaction (a crash leaves nothing half-imported) and skips rows already
present (importing the same file twice adds nothing). Rows DuckDB cannot parse are reported with
their line numbers and skipped. The Umami mapping is written down in docs/data.md#import.
"""

from __future__ import annotations

from medama_py.importer.exports import import_export_file
from medama_py.importer.staging import ImportError_, ImportResult
from medama_py.importer.umami_csv import import_umami

__all__ = ["ImportError_", "ImportResult", "import_export_file", "import_umami"]
