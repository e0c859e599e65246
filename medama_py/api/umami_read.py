"""The Umami-compatible read routes under /umami/api (and /umami/v1): thin handlers, no SQL (docs/umami.md).

One handler per entry of the route table (umami/routes.py). Each finds the website by its UUID (404 unless the
caller may read it), decodes the route's query parameters (400 naming the culprit) and runs the route's
function on a worker thread, so the event loop and ingestion never wait.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Annotated, Any

from litestar import get
from litestar.params import PathParameter

from medama_py import sharing
from medama_py.api.access import caller_of, may_read_website, readable_websites
from medama_py.api.deps import AnyRequest, ServicesDep, require_session
from medama_py.api.umami_auth import UMAMI_BEARER_SECURITY, iso_time
from medama_py.clock import unix
from medama_py.errors import WebsiteNotFound
from medama_py.umami.answers import UmamiWebsite, UmamiWebsitePage
from medama_py.umami.params import parse_umami_params
from medama_py.umami.queries import WebsiteListQuery
from medama_py.umami.routes import ROUTES, ReadContext

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.handlers import HTTPRouteHandler
    from litestar.types import AnyCallable

    from medama_py.model import Website
    from medama_py.services import Services
    from medama_py.umami.routes import UmamiRoute

__all__ = ["route_handlers"]

WebsiteId = Annotated[str, PathParameter(description="The website's UUID", max_length=64)]
SessionId = Annotated[str, PathParameter(description="A session id from /sessions", max_length=200)]


def _read_route(path: str, operation_id: str, summary: str) -> Callable[[AnyCallable], HTTPRouteHandler]:
    """The decorator of a read route: tagged Umami, a session, key or token required."""
    return get(
        path, operation_id=operation_id, summary=summary, tags=["Umami"], guards=[require_session],
        security=UMAMI_BEARER_SECURITY,
    )  # fmt: skip


async def find_website(connection: AnyRequest, services: Services, website_id: str) -> Website:
    """The website with this UUID if the caller may read it (the one read policy); 404 otherwise."""
    try:
        uuid.UUID(website_id)
    except ValueError:
        raise WebsiteNotFound from None
    website: Website = await services.meta.get_website_by_uuid(website_id)
    if not await may_read_website(services, caller_of(connection), website.hostname):
        raise WebsiteNotFound
    return website


async def _website_item(services: Services, website: Website) -> UmamiWebsite:
    share = await sharing.share_id(services.meta, website.hostname, unix(services.clock()))
    return UmamiWebsite(
        id=website.uuid,
        name=website.hostname,
        domain=website.hostname,
        share_id=share,
        team_id=None,
        user_id=website.user_id,
        created_by=website.user_id,
        created_at=iso_time(website.date_created),
        updated_at=iso_time(website.date_updated),
        reset_at=None,
        deleted_at=None,
        # Umami Cloud's session replay does not exist here.
        recorder_enabled=False,
        replay_config=None,
    )


@_read_route("/websites", "umami-list-websites", "The websites the caller may read, paged")
async def list_websites(request: AnyRequest, services: ServicesDep) -> UmamiWebsitePage:
    """The websites the caller may read (an admin: all; a viewer: its grants), paged: {data, count, page, pageSize}."""
    q = parse_umami_params(request.query_params.multi_items(), "", WebsiteListQuery)
    websites = await readable_websites(services, caller_of(request))
    if q.search:
        websites = [w for w in websites if q.search.lower() in w.hostname.lower()]
    first = (q.page - 1) * q.page_size
    page = websites[first : first + q.page_size]
    data = [await _website_item(services, w) for w in page]
    return UmamiWebsitePage(data=data, count=len(websites), page=q.page, page_size=q.page_size)


@_read_route("/websites/{website_id:str}", "umami-get-website", "One website")
async def get_website(website_id: WebsiteId, request: AnyRequest, services: ServicesDep) -> UmamiWebsite:
    """One website (resetAt and deletedAt are always null here)."""
    return await _website_item(services, await find_website(request, services, website_id))


async def _answer(route: UmamiRoute, request: AnyRequest, services: Services, website_id: str, session: str) -> Any:
    website = await find_website(request, services, website_id)
    q = parse_umami_params(request.query_params.multi_items(), website.hostname, route.query)
    context = ReadContext(website.uuid, website.hostname, services.clock(), session)
    return await services.analytics.read(lambda cur: route.read(cur, q, context))


def _handler(route: UmamiRoute) -> HTTPRouteHandler:
    """GET <route.path>: the website (404), the parameters (400), then the route's function on a worker thread."""
    if "{session_id}" in route.path:

        async def handler(
            website_id: WebsiteId, session_id: SessionId, request: AnyRequest, services: ServicesDep
        ) -> Any:
            return await _answer(route, request, services, website_id, session_id)

    else:

        async def handler(website_id: WebsiteId, request: AnyRequest, services: ServicesDep) -> Any:  # type: ignore[misc]
            return await _answer(route, request, services, website_id, "")

    # Litestar reads the response type (its schema and encoder) from the return annotation.
    handler.__annotations__["return"] = route.answer
    handler.__name__ = handler.__qualname__ = route.operation_id.replace("-", "_")
    path = re.sub(r"\{(\w+)\}", r"{\1:str}", route.path)
    decorated: HTTPRouteHandler = _read_route(path, route.operation_id, route.summary)(handler)
    return decorated


route_handlers = [list_websites, get_website, *(_handler(route) for route in ROUTES.values())]
