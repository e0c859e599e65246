"""Own your data: export and backup (both streamed) and the retention setting (docs/data.md)."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import anyio
import anyio.to_thread
import duckdb
import msgspec
from litestar import get, patch, post
from litestar.params import JSONBody, Parameter, QueryParameter
from litestar.response import Stream

from medama_py import version
from medama_py.api.access import require_admin, require_website_read
from medama_py.api.deps import (
    COOKIE_SECURITY,
    SERVICES,
    AnyRequest,
    ServicesDep,
    forbid_demo,
    require_json_body,
    require_session,
)
from medama_py.api.websites import HostnamePath
from medama_py.clock import unix
from medama_py.errors import BadRequest, InternalError
from medama_py.stats.params import parse_time
from medama_py.storage.backup import (
    ANALYTICS_FILE,
    META_FILE,
    at_lowest_priority,
    copy_analytics,
    copy_meta,
    pack_archive,
)
from medama_py.storage.export import EXPORT_FORMATS, EXPORT_MEMORY_BYTES, EXPORT_TABLES, export_rows
from medama_py.storage.writer import DRAIN_WAIT_S

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from medama_py.model import TenantSettings
    from medama_py.services import Services

__all__ = ["route_handlers"]

_CHUNK = 256 * 1024


def _work_dir(services: Services) -> Path:
    """A private temporary directory on the databases' filesystem (room for a copy of them)."""
    parent = Path(services.config.analyticsdb).resolve().parent
    return Path(tempfile.mkdtemp(prefix=".medama-", dir=parent if parent.is_dir() else None))


async def _stream_then_remove(path: Path, work: Path) -> AsyncIterator[bytes]:
    """The file's bytes in chunks (flat memory), then the temporary directory is removed, even on disconnect."""
    try:
        async with await anyio.open_file(path, "rb") as handle:
            while chunk := await handle.read(_CHUNK):
                yield chunk
    finally:
        await anyio.to_thread.run_sync(lambda: shutil.rmtree(work, ignore_errors=True))


def _require_choice(value: str, name: str, allowed: Mapping[str, object]) -> None:
    if value not in allowed:
        raise BadRequest(f"query parameter '{name}' must be one of {', '.join(sorted(allowed))}")


@get(
    "/api/website/{hostname:str}/export",
    operation_id="get-website-id-export",
    tags=["Data"],
    media_type="text/csv",
    guards=[require_session, require_admin],
    security=COOKIE_SECURITY,
    dependencies=SERVICES,
)
async def export_website(
    hostname: HostnamePath,
    services: ServicesDep,
    file_format: Annotated[str, QueryParameter(name="format", description="csv, parquet or ndjson")] = "csv",
    table: Annotated[str, Parameter(description="views (page views) or events (custom events)")] = "views",
    start: Annotated[str | None, Parameter(description="RFC 3339; rows created at or after")] = None,
    end: Annotated[str | None, Parameter(description="RFC 3339; rows created at or before")] = None,
    *,
    request: AnyRequest,
) -> Stream:
    """Raw page views (`table=views`) or custom events (`table=events`) of one website as CSV, Parquet or NDJSON.

    Streamed from a file DuckDB writes, so memory stays flat for any size; other parameter names are ignored.
    Columns: docs/data.md#export.
    """
    _require_choice(file_format, "format", EXPORT_FORMATS)
    _require_choice(table, "table", EXPORT_TABLES)
    bounds = {name: value for name, value in (("start", start), ("end", end)) if value}
    start_at, end_at = parse_time(bounds, "start"), parse_time(bounds, "end")
    if start_at is not None and end_at is not None and end_at < start_at:
        raise BadRequest("query parameter 'end' is before 'start'")
    await require_website_read(request, services, hostname)
    _, media_type, extension = EXPORT_FORMATS[file_format]
    work = _work_dir(services)
    target = work / f"{hostname}-{table}.{extension}"
    try:
        await services.analytics.read(
            lambda cur: export_rows(
                cur, target, table=table, file_format=file_format, hostname=hostname, start=start_at, end=end_at
            ),
            memory_bytes=EXPORT_MEMORY_BYTES,
        )
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Stream(
        _stream_then_remove(target, work),
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{target.name}"', "cache-control": "no-store"},
    )


@post(
    "/api/backup",
    operation_id="post-backup",
    tags=["Data"],
    media_type="application/gzip",
    guards=[require_session, require_admin],
    security=COOKIE_SECURITY,
    dependencies=SERVICES,
    status_code=200,
)
async def post_backup(services: ServicesDep) -> Stream:
    """A consistent snapshot of both databases while ingestion goes on, as one tar.gz with a manifest."""
    work = _work_dir(services)
    now = services.clock()
    try:
        meta_rows = await copy_meta(services.meta, work / META_FILE)
        archive = work / f"medama-backup-{now.strftime('%Y%m%dT%H%M%SZ')}.tar.gz"
        versions = {"medama_py": version.VERSION, "duckdb": duckdb.__version__, "sqlite": sqlite3.sqlite_version}

        def copy_and_pack() -> None:
            analytics = services.analytics
            analytics_rows = analytics.run_on_cursor(lambda cur: copy_analytics(cur, work / ANALYTICS_FILE))
            pack_archive(work, archive, {"meta": meta_rows, "analytics": analytics_rows}, versions, now)

        # Every hit acknowledged so far is in the copy: wait for the journal to be applied up to here.
        await services.writer.settled(timeout=DRAIN_WAIT_S)
        # Below the hit path's priority: ingestion keeps its cores while the backup takes longer.
        await anyio.to_thread.run_sync(lambda: at_lowest_priority(copy_and_pack))
        for name in (META_FILE, ANALYTICS_FILE):
            with contextlib.suppress(FileNotFoundError):
                (work / name).unlink()  # packed: free the space before streaming
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Stream(
        _stream_then_remove(archive, work),
        media_type="application/gzip",
        headers={"content-disposition": f'attachment; filename="{archive.name}"', "cache-control": "no-store"},
    )


class Retention(msgspec.Struct):
    """How long analytics rows are kept; older ones are deleted once a day (docs/data.md#retention)."""

    months: Annotated[int, msgspec.Meta(ge=0, le=1200)]  # 0 keeps everything (the default)


@get(
    "/api/data/retention",
    operation_id="get-data-retention",
    tags=["Data"],
    guards=[require_session, require_admin],
    security=COOKIE_SECURITY,
    dependencies=SERVICES,
)
async def get_retention(services: ServicesDep) -> Retention:
    """The retention setting: months of analytics kept, 0 for forever."""
    return Retention(months=_stored_months(await services.meta.get_settings()))


@patch(
    "/api/data/retention",
    operation_id="patch-data-retention",
    tags=["Data"],
    guards=[require_session, require_admin, require_json_body],
    security=COOKIE_SECURITY,
    dependencies=SERVICES,
    status_code=200,
)
async def patch_retention(data: JSONBody[Retention], services: ServicesDep) -> Retention:
    """Store the retention setting; the next daily pass (or one right after start-up) applies it."""
    forbid_demo(services)
    await services.meta.put_settings({"retention_months": str(data.months)}, unix(services.clock()))
    return Retention(months=_stored_months(await services.meta.get_settings()))


def _stored_months(settings: TenantSettings) -> int:
    try:
        return int(settings.retention_months)
    except ValueError:
        raise InternalError(f"stored retention_months is not a number: {settings.retention_months!r}") from None


route_handlers = [export_website, post_backup, get_retention, patch_retention]
