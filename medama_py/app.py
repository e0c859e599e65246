"""create_app(config): the Litestar application, its lifespan (stores, migrations, first run) and routes."""

from __future__ import annotations

import asyncio
import logging
import re
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.datastructures import MutableScopeHeaders

from medama_py.api import (
    accounts,
    api_keys,
    auth,
    data,
    events,
    openapi,
    settings,
    shares,
    static,
    stats,
    umami_auth,
    umami_collect,
    umami_read,
    users,
    websites,
)
from medama_py.api.deps import SERVICES_AND_USER, StrictJSONRequest
from medama_py.api.error_handler import handle_exception
from medama_py.clock import system_clock, unix
from medama_py.errors import UserNotFound
from medama_py.events_fast_path import EventsFastPath, HitRoute
from medama_py.ids import new_typeid
from medama_py.ingest.ip import IPFilter
from medama_py.ingest.pipeline import IngestDeps
from medama_py.middleware import EdgeMiddleware
from medama_py.model import User
from medama_py.origins import WILDCARD
from medama_py.security import hash_password, verify_password
from medama_py.services import Services
from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.limits import limits_for_host
from medama_py.storage.meta import MetaStore
from medama_py.storage.retention import run_retention_daily
from medama_py.storage.rollup_job import RollupJob
from medama_py.storage.writer import HitWriter
from medama_py.version import COMMIT

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from datetime import datetime

    from litestar.types import ASGIApp, Message, Scope

    from medama_py.config import Config
    from medama_py.http_direct import DirectRoute

__all__ = ["DEFAULT_PASSWORD", "DEFAULT_USERNAME", "create_app", "create_asgi"]

log = logging.getLogger("medama_py")

DEFAULT_USERNAME = "admin"
DEFAULT_PASSWORD = "CHANGE_ME_ON_FIRST_LOGIN"  # noqa: S105  (Medama's documented first-run password)
MAX_BODY_BYTES = 64 * 1024  # admin and event bodies are tiny; anything larger is refused with 413


async def ensure_default_user(meta: MetaStore, now: int) -> None:
    """With no users at all, create admin / CHANGE_ME_ON_FIRST_LOGIN, at every start, as Medama does."""
    if await meta.count_users() > 0:
        return
    log.warning("no users found, creating default admin user")
    user_id = new_typeid("user")
    await meta.create_user(User(user_id, DEFAULT_USERNAME, await hash_password(DEFAULT_PASSWORD), "en", now, now))
    log.warning("default admin user created")


async def warn_about_risky_settings(config: Config, meta: MetaStore) -> None:
    """Say at start-up what an operator should change (docs/security.md)."""
    if WILDCARD in config.corsorigins:
        log.warning(
            "-corsorigins '*' lets any site call the API, but never with a user's cookie:"
            " credentials are granted only to origins named in the list"
        )
    try:
        admin = await meta.get_user_by_username(DEFAULT_USERNAME)
    except UserNotFound:
        return
    if await verify_password(admin.password, DEFAULT_PASSWORD):
        log.warning("the admin account still uses the default password: log in and change it")


def _untyped(path: str) -> str:
    return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path)


async def _list_every_method(message: Message, scope: Scope) -> None:
    """Answer OPTIONS with every method of the path, as Medama's router does.

    Litestar builds its automatic OPTIONS handler with the first handler registered on a path and never updates
    it, so `/api/user` would answer `Allow: GET, OPTIONS` although PATCH and DELETE exist too.
    """
    if scope.get("method") != "OPTIONS" or message["type"] != "http.response.start" or message["status"] != 204:
        return
    template = scope.get("path_template", "")
    # The map is keyed by the declared path ("/api/websites/{hostname:str}"), the template lacks the types.
    handlers = next(
        (found for path, found in scope["app"].route_handler_method_map.items() if _untyped(path) == template), {}
    )
    methods = sorted(method for method in handlers if method not in ("OPTIONS", "HEAD", "asgi", "websocket"))
    if methods:
        headers = MutableScopeHeaders.from_message(message)
        headers["Allow"] = ", ".join([*methods, "OPTIONS"])
        headers["Access-Control-Allow-Methods"] = ",".join(methods)


def _lifespan(config: Config, clock: Callable[[], datetime]) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        meta = MetaStore(config.appdb)
        analytics = AnalyticsStore(config.analyticsdb, limits_for_host(config.memorylimit))
        await meta.open()
        try:
            analytics.open()
            await ensure_default_user(meta, unix(clock()))
            await warn_about_risky_settings(config, meta)
            writer = HitWriter(analytics)
            hostnames = await meta.all_hostnames()
            ingest = IngestDeps(hostnames=hostnames, ip_filter=IPFilter.from_presets())
            services = Services(
                config=config,
                meta=meta,
                analytics=analytics,
                writer=writer,
                clock=clock,
                hostnames=hostnames,
                ingest=ingest,
                umami_collector=await umami_collect.make_collector(meta, analytics, writer, ingest),
                settings=await meta.get_settings(),
            )
            await writer.start()
            retention = asyncio.create_task(run_retention_daily(meta, analytics, clock))
            rollups = asyncio.create_task(RollupJob(analytics, hostnames, clock).run())
            cache_trims = asyncio.create_task(analytics.keep_cache_trimmed())
            app.state.services = services
            app.state.static_files = static.load_static_files()
            log.info("medama_py ready", extra={"appdb": config.appdb, "analyticsdb": config.analyticsdb})
            try:
                yield
            finally:
                log.info("Shutting down server...")
                retention.cancel()
                rollups.cancel()
                cache_trims.cancel()
                # Commit every pending hit batch before the analytics file closes (SIGTERM flush).
                await writer.stop()
        finally:
            analytics.close()
            await meta.close()
            log.info("databases closed")

    return lifespan


def _umami_routers() -> list[Router]:
    """The Umami-compatible API under /umami/api, and again under /umami/v1 (Umami Cloud's path style)."""
    handlers: list[Any] = [*umami_auth.route_handlers, *umami_read.route_handlers]
    return [
        Router("/umami/api", route_handlers=handlers, dependencies=SERVICES_AND_USER),
        # The same operations; documented once, under /umami/api.
        Router("/umami/v1", route_handlers=handlers, dependencies=SERVICES_AND_USER, include_in_schema=False),
    ]


def create_app(config: Config, clock: Callable[[], datetime] = system_clock) -> Litestar:
    """Build the application for `config`; nothing is opened until the lifespan starts."""
    return Litestar(
        route_handlers=[
            *auth.route_handlers,
            *events.route_handlers,
            *umami_collect.route_handlers,
            *users.route_handlers,
            *accounts.route_handlers,
            *settings.route_handlers,
            *data.route_handlers,
            *websites.route_handlers,
            *shares.route_handlers,
            *stats.route_handlers,
            *api_keys.route_handlers,
            *_umami_routers(),
            *openapi.route_handlers,
            *static.route_handlers,
        ],
        lifespan=[_lifespan(config, clock)],
        exception_handlers={Exception: handle_exception},
        request_class=StrictJSONRequest,
        before_send=[_list_every_method],
        compression_config=CompressionConfig(backend="gzip", minimum_size=200, gzip_compress_level=6),
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=openapi.openapi_config(),
        logging_config=None,
        debug=False,
    )


def create_asgi(config: Config, clock: Callable[[], datetime] = system_clock) -> ASGIApp:
    """The application wrapped in the outer middleware, as the server runs it."""
    app = create_app(config, clock)
    edge = EdgeMiddleware(app, commit=COMMIT, cors_origins=config.corsorigins)
    # The event endpoints take a lean path in front of everything else (docs/architecture.md#a-hit).
    # POST /api/event/hit and /umami/api/send are answered by the HTTP protocol itself in the plain case
    # (medama_py/http_direct.py).
    direct: dict[bytes, DirectRoute] = {
        umami_collect.SEND_PATH.encode(): umami_collect.UmamiSendRoute(app),
        events.HIT_PATH.encode(): HitRoute(app),
    }
    return EventsFastPath(umami_collect.UmamiCollectPath(edge, app), app, direct_posts=direct)
