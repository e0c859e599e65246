"""Hit → named steps → Accepted (a view, duration or events to write) or Dropped(reason) (docs/architecture.md#a-hit).

Each step reads as intent and either fills in the draft view row, returns `Dropped(reason)` to stop
silently (the handler answers 204), or raises a MedamaError for a 400/404. The order is Medama's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from medama_py.errors import BadRequest, InvalidCustomProperty, WebsiteNotFound
from medama_py.ids import new_typeid
from medama_py.ingest.hit import CustomHit, LoadHit, Properties, UnloadHit
from medama_py.ingest.locale import LanguageError, country_for_timezone, parse_accept_language
from medama_py.ingest.referrer import (
    URLError,
    is_spam_referrer,
    normalise_path,
    parse_page_url,
    parse_referrer,
    utm_values,
)
from medama_py.ingest.useragent import parse_user_agent
from medama_py.model import EventRows, ViewRow

if TYPE_CHECKING:
    from collections.abc import Callable, Container
    from datetime import datetime

    from medama_py.ingest.hit import Hit
    from medama_py.ingest.ip import IPAddress, IPFilter

__all__ = [
    "Accepted",
    "Dropped",
    "EventRows",
    "HitContext",
    "IngestDeps",
    "NewDuration",
    "NewEvents",
    "NewView",
    "Outcome",
    "ViewRow",
    "process",
    "warm_up",
]

log = logging.getLogger(__name__)

# Two or more unknown signals (UA parts, timezone, a malformed Accept-Language) mark a non-browser.
_UNKNOWN_LIMIT = 2


@dataclass(frozen=True, slots=True)
class HitContext:
    """What the handler gathers from the request besides the body."""

    ip: IPAddress | None
    user_agent: str
    accept_language: str
    now: datetime


@dataclass(slots=True)
class IngestDeps:
    """Runtime state the steps consult; the hostname set is shared live with the websites API."""

    hostnames: Container[str]
    ip_filter: IPFilter
    spam_hosts: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class NewView:
    view: ViewRow
    events: EventRows | None


@dataclass(frozen=True, slots=True)
class NewDuration:
    bid: str
    duration_ms: int


@dataclass(frozen=True, slots=True)
class NewEvents:
    events: EventRows


@dataclass(frozen=True, slots=True)
class Dropped:
    reason: str


# What the writer stores for an accepted hit; Dropped hits store nothing.
Accepted = NewView | NewDuration | NewEvents
Outcome = Accepted | Dropped


@dataclass(slots=True)
class _Draft:
    hit: LoadHit
    ctx: HitContext
    row: ViewRow
    unknown: int = 0
    query: str = field(default="")


def _property_text(value: str | int | bool) -> str:
    # Booleans first: bool is an int subclass, and Medama stores `true`/`false`.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _event_rows(group: str, bid: str, props: Properties, now: datetime) -> EventRows:
    pairs = tuple((name, _property_text(value)) for name, value in props.items())
    return EventRows(new_typeid("event", int(now.timestamp() * 1000)), group, bid, pairs, now)


# --- steps common to every event type ---------------------------------------------------------


def require_client_ip(ctx: HitContext) -> IPAddress:
    """Return the client address, or raise 400 when no source yields one."""
    if ctx.ip is None:
        raise BadRequest("no valid ip found in request")
    return ctx.ip


def drop_blocked_ip(ip: IPAddress, deps: IngestDeps) -> Dropped | None:
    """Drop hits from an address on the manual list or an enabled preset."""
    return Dropped("blocked ip") if deps.ip_filter.is_blocked(ip) else None


# --- load steps ---------------------------------------------------------------------------------


def require_known_hostname(draft: _Draft, deps: IngestDeps) -> Dropped | None:
    """Parse `u`; raise 404 unless its host (port removed, case kept) is a registered website.

    A raise, not a Dropped: Medama answers an unknown website with 404, where drops answer 204.
    """
    try:
        page = parse_page_url(draft.hit.u)
    except URLError as exc:
        raise BadRequest(f"decode request: invalid page url: {exc}") from None
    if page.hostname not in deps.hostnames:
        raise WebsiteNotFound
    draft.row.hostname = page.hostname
    draft.row.pathname = normalise_path(page.path)
    draft.query = page.raw_query
    return None


def drop_bot(draft: _Draft, deps: IngestDeps) -> Dropped | None:
    """Name the browser, OS and device; drop bots and UAs with two or more unknown parts."""
    ua = parse_user_agent(draft.ctx.user_agent)
    if ua.is_bot:
        return Dropped("bot user agent")
    draft.row.ua_browser, draft.row.ua_os, draft.row.ua_device_type = ua.browser, ua.os, ua.device
    draft.unknown += ua.unknown_count
    return Dropped("unrecognised user agent") if draft.unknown >= _UNKNOWN_LIMIT else None


def put_country(draft: _Draft, deps: IngestDeps) -> Dropped | None:
    """Map the timezone to a country; an unlisted or missing zone is one more unknown signal."""
    country = country_for_timezone(draft.hit.t) if draft.hit.t else None
    if country is not None:
        draft.row.country = country
        return None
    draft.unknown += 1
    return Dropped("unknown timezone with other unknown signals") if draft.unknown >= _UNKNOWN_LIMIT else None


def put_locale(draft: _Draft, deps: IngestDeps) -> Dropped | None:
    """Name the preferred language; only a malformed header (not a missing one) counts as unknown."""
    try:
        languages = parse_accept_language(draft.ctx.accept_language)
    except LanguageError:
        draft.unknown += 1
        too_many = draft.unknown >= _UNKNOWN_LIMIT
        return Dropped("malformed accept-language with other unknown signals") if too_many else None
    draft.row.language_base, draft.row.language_dialect = languages.base, languages.dialect
    return None


def put_referrer(draft: _Draft, deps: IngestDeps) -> Dropped | None:
    """Store the referrer host and group; 400 for an unparsable URL, drop a spam referrer."""
    try:
        referrer = parse_referrer(draft.hit.r, draft.row.hostname)
    except URLError as exc:
        raise BadRequest(f"parse referrer: {exc}") from None
    if referrer.host and is_spam_referrer(referrer.host, deps.spam_hosts):
        return Dropped("spam referrer")
    draft.row.referrer_host, draft.row.referrer_group = referrer.host, referrer.group
    return None


def put_utm(draft: _Draft, deps: IngestDeps) -> Dropped | None:
    """Take the first utm_source, utm_medium and utm_campaign from the page URL's query."""
    draft.row.utm_source, draft.row.utm_medium, draft.row.utm_campaign = utm_values(draft.query)
    return None


_LOAD_STEPS: tuple[Callable[[_Draft, IngestDeps], Dropped | None], ...] = (
    require_known_hostname,
    drop_bot,
    put_country,
    put_locale,
    put_referrer,
    put_utm,
)


def _process_load(hit: LoadHit, ctx: HitContext, deps: IngestDeps) -> Outcome:
    row = ViewRow(bid=hit.b, hostname="", is_unique_user=hit.p, is_unique_page=hit.q, date_created=ctx.now)
    draft = _Draft(hit, ctx, row)
    for step in _LOAD_STEPS:
        dropped = step(draft, deps)
        if dropped is not None:
            return dropped
    # `d` present, even `{}`, gets a batch id (and then no rows), as in Medama.
    events = _event_rows(row.hostname, hit.b, hit.d, ctx.now) if isinstance(hit.d, dict) else None
    return NewView(row, events)


def _process_custom(hit: CustomHit, ctx: HitContext, deps: IngestDeps) -> Outcome:
    if not hit.d:
        raise InvalidCustomProperty
    if hit.g not in deps.hostnames:
        raise WebsiteNotFound
    return NewEvents(_event_rows(hit.g, hit.b, hit.d, ctx.now))


def warm_up() -> None:
    """Load every parser's tables now (UA regexes, CLDR names, zones, referrer groups) instead of on a first hit."""
    parse_user_agent(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
    )
    parse_accept_language("en-GB,en;q=0.9")
    country_for_timezone("Europe/London")
    parse_referrer("https://www.google.com/", "")


def process(hit: Hit, ctx: HitContext, deps: IngestDeps) -> Outcome:
    """Run the pipeline for one hit and return what to write, or why it was dropped.

    Raises:
        MedamaError: 400 (no client IP, bad page or referrer URL, empty custom properties) or
            404 (the website is not registered).
    """
    ip = require_client_ip(ctx)
    outcome: Outcome | None = drop_blocked_ip(ip, deps)
    if outcome is None:
        if isinstance(hit, LoadHit):
            outcome = _process_load(hit, ctx, deps)
        elif isinstance(hit, UnloadHit):
            # Unloads skip every website and UA check, as in Medama: an unknown bid is a no-op.
            outcome = NewDuration(hit.b, hit.m)
        else:
            outcome = _process_custom(hit, ctx, deps)
    if isinstance(outcome, Dropped):
        log.debug("hit dropped: %s", outcome.reason)
    return outcome
