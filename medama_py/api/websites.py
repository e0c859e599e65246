"""Websites: list, create, get, rename, delete (docs/compatibility.md#websites, docs/accounts.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

from litestar import delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from medama_py.api.access import caller_of, readable_websites, require_admin, require_website_read
from medama_py.api.deps import (
    COOKIE_SECURITY,
    SERVICES_AND_USER,
    AnyConnection,
    AnyRequest,
    ServicesDep,
    UserIdDep,
    forbid_demo,
    require_json_body,
    require_session,
)
from medama_py.api.schemas import HOSTNAME_PATTERN, WebsiteCreate, WebsiteGet, WebsitePatch, WebsiteSummary
from medama_py.clock import unix
from medama_py.config import parse_bool
from medama_py.errors import BadRequest
from medama_py.model import Website
from medama_py.storage.sites import count_recent_visitors, delete_site_rows, rename_site_rows
from medama_py.storage.writer import DRAIN_WAIT_S

if TYPE_CHECKING:
    from medama_py.services import Services

__all__ = ["HostnamePath", "readable_website", "route_handlers"]

HostnamePath = Annotated[
    str,
    PathParameter(description="Hostname of the website", min_length=1, max_length=253, pattern=HOSTNAME_PATTERN),
]


async def readable_website(connection: AnyConnection, services: Services, hostname: str) -> Website:
    """The website if the caller may read it; otherwise the same 404 as a missing one (docs/accounts.md)."""
    await require_website_read(connection, services, hostname)
    return await services.meta.get_website(hostname)


@get(
    "/api/websites",
    operation_id="get-websites",
    tags=["Websites"],
    guards=[require_session],
    security=COOKIE_SECURITY,
    dependencies=SERVICES_AND_USER,
)
async def list_websites(
    request: AnyRequest,
    services: ServicesDep,
    summary: Annotated[str | None, QueryParameter(description="Include visitors of the last 24 hours")] = None,
) -> list[WebsiteGet]:
    """The websites the caller may read (an admin: all), optionally with their unique visitors of the last 24 h."""
    try:
        with_summary = parse_bool(summary) if summary is not None else False
    except ValueError:
        raise BadRequest(f"query: 'summary': invalid boolean {summary!r}") from None
    websites = await readable_websites(services, caller_of(request))
    if not with_summary:
        return [WebsiteGet(hostname=w.hostname) for w in websites]
    since = services.clock() - timedelta(days=1)
    names = [w.hostname for w in websites]
    counts = await services.analytics.read(lambda cur: count_recent_visitors(cur, names, since))
    return [WebsiteGet(hostname=n, summary=WebsiteSummary(visitors=counts[n])) for n in names]


@post(
    "/api/websites",
    operation_id="post-websites",
    tags=["Websites"],
    guards=[require_session, require_admin, require_json_body],
    security=COOKIE_SECURITY,
    dependencies=SERVICES_AND_USER,
    status_code=201,
)
async def create_website(data: JSONBody[WebsiteCreate], services: ServicesDep, user_id: UserIdDep) -> WebsiteGet:
    """Register a website; its hits are accepted from now on."""
    forbid_demo(services)
    now = unix(services.clock())
    await services.meta.create_website(Website(data.hostname, user_id, now, now))
    services.hostnames.add(data.hostname)
    return WebsiteGet(hostname=data.hostname)


@get(
    "/api/websites/{hostname:str}",
    operation_id="get-websites-id",
    tags=["Websites"],
    guards=[require_session],
    security=COOKIE_SECURITY,
    dependencies=SERVICES_AND_USER,
)
async def get_website(hostname: HostnamePath, request: AnyRequest, services: ServicesDep) -> WebsiteGet:
    """One website the caller may read."""
    website = await readable_website(request, services, hostname)
    return WebsiteGet(hostname=website.hostname)


@patch(
    "/api/websites/{hostname:str}",
    operation_id="patch-websites-id",
    tags=["Websites"],
    guards=[require_session, require_admin, require_json_body],
    security=COOKIE_SECURITY,
    dependencies=SERVICES_AND_USER,
    status_code=200,
)
async def patch_website(hostname: HostnamePath, data: JSONBody[WebsitePatch], services: ServicesDep) -> WebsiteGet:
    """Rename a website, moving its page views and events with it (docs/compatibility.md#websites).

    Its grants and share links follow the new name (docs/accounts.md).
    """
    forbid_demo(services)
    await services.meta.get_website(hostname)
    new = data.hostname if data.hostname is not None else hostname
    await services.meta.rename_website(hostname, new, unix(services.clock()))
    if new != hostname:
        services.hostnames.discard(hostname)
        services.hostnames.add(new)
        await services.writer.settled(timeout=DRAIN_WAIT_S)  # the hits acknowledged so far move too
        await services.analytics.write(lambda cur: rename_site_rows(cur, hostname, new))
    return WebsiteGet(hostname=new)


@delete(
    "/api/websites/{hostname:str}",
    operation_id="delete-websites-id",
    tags=["Websites"],
    guards=[require_session, require_admin],
    security=COOKIE_SECURITY,
    dependencies=SERVICES_AND_USER,
)
async def delete_website(hostname: HostnamePath, services: ServicesDep) -> None:
    """Delete a website with its page views and events (docs/compatibility.md#websites).

    Its grants and share links go with it (docs/accounts.md).
    """
    forbid_demo(services)
    await services.meta.get_website(hostname)
    services.hostnames.discard(hostname)
    await services.meta.delete_website(hostname)
    await services.writer.settled(timeout=DRAIN_WAIT_S)  # the hits acknowledged so far go too
    await services.analytics.write(lambda cur: delete_site_rows(cur, hostname))


route_handlers = [list_websites, create_website, get_website, patch_website, delete_website]
