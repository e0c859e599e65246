"""`medama export`, `backup`, `restore` and `import`: data commands beside `start` (docs/data.md).

- export: rows of one website from a stopped server's analytics file (read-only), DuckDB's own writers.
- backup: asks a running server for a consistent archive (POST /api/backup) with an API key.
- restore: unpacks an archive into database paths that do not exist yet.
- import: our own export files, or Umami's website_event + session (+ event_data) CSVs, into a stopped server's file.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import httpx

from medama_py.config import DEFAULT_ANALYTICS_DB, DEFAULT_APP_DB
from medama_py.errors import BadRequest
from medama_py.importer import ImportError_, import_export_file, import_umami
from medama_py.stats.params import parse_time
from medama_py.storage.analytics_file import STORAGE_COMPATIBILITY, create_analytics_schema
from medama_py.storage.backup import BackupError, restore_archive
from medama_py.storage.export import EXPORT_FORMATS, EXPORT_TABLES, export_rows

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

__all__ = ["COMMANDS", "run_command"]


# The time checks are the HTTP export's: their messages name a query parameter, here a flag.
_PARAMETER = re.compile(r"query parameter '(\w+)'")


def _parser(name: str, description: str) -> argparse.ArgumentParser:
    # Medama's commands take Go-style single-dash flags; `--flag` works too.
    return argparse.ArgumentParser(prog=f"medama {name}", description=description, allow_abbrev=False)


def _export(args: Sequence[str]) -> int:
    parser = _parser("export", "Write one website's raw page views or events to a file (server stopped).")
    parser.add_argument("-analyticsdb", "--analyticsdb", default=DEFAULT_ANALYTICS_DB)
    parser.add_argument("-hostname", "--hostname", required=True)
    parser.add_argument("-table", "--table", choices=sorted(EXPORT_TABLES), default="views")
    parser.add_argument("-format", "--format", choices=sorted(EXPORT_FORMATS), default="csv")
    parser.add_argument("-start", "--start", help="RFC 3339, inclusive")
    parser.add_argument("-end", "--end", help="RFC 3339, inclusive")
    parser.add_argument("-out", "--out", required=True, help="the file to write")
    ns = parser.parse_args(args)
    try:
        bounds = {k: v for k, v in (("start", ns.start), ("end", ns.end)) if v is not None}
        start, end = parse_time(bounds, "start"), parse_time(bounds, "end")
    except BadRequest as exc:
        print("ERROR:", _PARAMETER.sub(r"flag -\1", exc.detail), file=sys.stderr)
        return 2
    if not Path(ns.analyticsdb).is_file():
        print(f"ERROR: no analytics database at {ns.analyticsdb} (-analyticsdb)", file=sys.stderr)
        return 1
    try:
        conn = duckdb.connect(ns.analyticsdb, read_only=True)
    except duckdb.IOException as exc:
        print(
            f"ERROR: cannot open {ns.analyticsdb}: {str(exc).splitlines()[0]}. While the server runs, use"
            " GET /api/website/<hostname>/export instead.",
            file=sys.stderr,
        )
        return 1
    try:
        rows = _write_export(conn, ns, start, end)
    finally:
        conn.close()
    print(f"wrote {rows} {ns.table} rows of {ns.hostname} to {ns.out}", file=sys.stderr)
    return 0


def _write_export(
    conn: duckdb.DuckDBPyConnection, ns: argparse.Namespace, start: datetime | None, end: datetime | None
) -> int:
    """Write the export file the flags ask for, with a progress line when stderr is a terminal; its row count."""
    conn.execute("SET TimeZone = 'UTC'")
    progress = None
    if sys.stderr.isatty():  # Parquet is one COPY, with DuckDB's own bar; CSV/NDJSON report each chunk
        conn.execute("SET enable_progress_bar = true")
        conn.execute("SET enable_progress_bar_print = true")
        progress = _draw_progress
    rows = export_rows(
        conn, Path(ns.out), table=ns.table, file_format=ns.format, hostname=ns.hostname, start=start, end=end,
        progress=progress,
    )  # fmt: skip
    if progress is not None:
        print(file=sys.stderr)  # end the progress line
    return rows


def _draw_progress(written: int, total: int) -> None:
    width = 40
    filled = width * written // total if total else width
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {written:,}/{total:,} rows", end="", file=sys.stderr, flush=True)


def _backup(args: Sequence[str]) -> int:
    parser = _parser("backup", "Download a consistent backup archive from a running server.")
    parser.add_argument("-url", "--url", required=True, help="the server, e.g. http://127.0.0.1:8080")
    parser.add_argument("-key", "--key", required=True, help="an admin's API key (Settings -> API keys)")
    parser.add_argument("-out", "--out", default="", help="archive path (default: the name the server gives)")
    ns = parser.parse_args(args)
    url = ns.url.rstrip("/") + "/api/backup"
    try:
        with httpx.stream("POST", url, headers={"authorization": f"Bearer {ns.key}"}, timeout=None) as response:  # noqa: S113
            if response.status_code != 200:
                response.read()
                print(f"ERROR: {url} answered {response.status_code}: {response.text[:300]}", file=sys.stderr)
                return 1
            out = Path(ns.out or _attachment_name(response.headers.get("content-disposition", "")))
            with out.open("wb") as handle:
                for chunk in response.iter_bytes():
                    handle.write(chunk)
    except httpx.HTTPError as exc:
        print(f"ERROR: could not reach {url}: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out} ({out.stat().st_size} bytes)", file=sys.stderr)
    return 0


def _attachment_name(disposition: str) -> str:
    _, _, name = disposition.partition('filename="')
    name = Path(name.rstrip('"')).name  # never a path the server chose
    return name if name.endswith(".tar.gz") else "medama-backup.tar.gz"


def _restore(args: Sequence[str]) -> int:
    parser = _parser("restore", "Unpack a backup archive into database files that do not exist yet.")
    parser.add_argument("archive")
    parser.add_argument("-appdb", "--appdb", default=DEFAULT_APP_DB)
    parser.add_argument("-analyticsdb", "--analyticsdb", default=DEFAULT_ANALYTICS_DB)
    ns = parser.parse_args(args)
    try:
        manifest = restore_archive(Path(ns.archive), Path(ns.appdb), Path(ns.analyticsdb))
    except BackupError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    print(f"restored the backup of {manifest.get('created')} into {ns.appdb} and {ns.analyticsdb}", file=sys.stderr)
    return 0


def _import(args: Sequence[str]) -> int:
    parser = _parser("import", "Import rows into a stopped server's analytics file (idempotent, all or nothing).")
    parser.add_argument("file", help="a `medama export` file, or Umami's website_event CSV with -umami")
    parser.add_argument("-analyticsdb", "--analyticsdb", default=DEFAULT_ANALYTICS_DB)
    parser.add_argument("-table", "--table", choices=sorted(EXPORT_TABLES), default="views")
    parser.add_argument("-umami", "--umami", action="store_true", help="the file is Umami's website_event CSV")
    parser.add_argument("-sessions", "--sessions", help="with -umami: Umami's session CSV")
    parser.add_argument("-eventdata", "--eventdata", help="with -umami: Umami's event_data CSV (optional)")
    parser.add_argument("-hostname", "--hostname", help="with -umami: the website the rows belong to here")
    parser.add_argument("-website", "--website", help="with -umami: keep only this Umami website_id")
    ns = parser.parse_args(args)
    if ns.umami and not (ns.sessions and ns.hostname):
        parser.error("-umami needs -sessions and -hostname")
    if ns.eventdata and not ns.umami:
        parser.error("-eventdata goes with -umami")
    try:
        # A new file gets the storage format the server writes, so Medama can still open it.
        conn = duckdb.connect(ns.analyticsdb, config={"storage_compatibility_version": STORAGE_COMPATIBILITY})
    except duckdb.IOException as exc:
        print(
            f"ERROR: cannot open {ns.analyticsdb}: {str(exc).splitlines()[0]} (stop the server first)", file=sys.stderr
        )
        return 1
    try:
        conn.execute("SET TimeZone = 'UTC'")
        create_analytics_schema(conn)
        if ns.umami:
            data = Path(ns.eventdata) if ns.eventdata else None
            result = import_umami(conn, Path(ns.file), Path(ns.sessions), ns.hostname, ns.website, data)
        else:
            result = import_export_file(conn, Path(ns.file), ns.table)
    except ImportError_ as exc:
        print(f"ERROR: {exc}; nothing was imported", file=sys.stderr)
        return 1
    finally:
        conn.close()
    for name, line, why in result.rejected:
        print(f"skipped {name} line {line}: {why}", file=sys.stderr)
    added = ", ".join(f"{count} {table}" for table, count in result.inserted.items())
    print(f"imported {added}; {result.skipped_existing} already present", file=sys.stderr)
    return 0


COMMANDS = {"export": _export, "backup": _backup, "restore": _restore, "import": _import}


def run_command(name: str, args: Sequence[str]) -> int:
    """Run one data command; 0 done, 1 failed, 2 bad usage (argparse exits 2 itself)."""
    try:
        return COMMANDS[name](args)
    except SystemExit as exc:  # argparse's usage errors and -h
        return int(exc.code or 0)
