"""One Umami-protocol hit → the rows it writes (docs/umami.md "Collection", docs/privacy.md).

The checks run in Umami's order: body shape (400), website (400 `Website not found.`), bot (200
`{"beep":"boop"}`), IP block list (403), then the hit is stored and answered with its visit token. The
parsing reuses Medama's ingestion steps (User-Agent, language, timezone → country, referrer groups, UTM),
so the Medama dashboard shows these hits with the same names as tracker hits. Medama's "two unknown
signals" rule does not apply here: server-side senders have no browser, and a bot is told by its
User-Agent alone.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import unquote, urlsplit

from medama_py.errors import BadRequest, Forbidden
from medama_py.ids import new_typeid
from medama_py.ingest.hit import MAX_DURATION_MS
from medama_py.ingest.locale import LanguageError, country_for_timezone, parse_accept_language
from medama_py.ingest.referrer import (
    URLError,
    drop_control_characters,
    holds_control_character,
    is_spam_referrer,
    normalise_path,
    parse_referrer,
    utm_values,
)
from medama_py.ingest.umami_payload import MAX_TEXT, flatten_event_data
from medama_py.ingest.useragent import parse_user_agent
from medama_py.ingest.visit_token import VISIT_SECONDS, Visit, new_time_uuid, new_uuid, page_bit
from medama_py.model import UNKNOWN, EventRows, UmamiRows, ViewRow
from medama_py.storage.hit_batches import WriteItem

if TYPE_CHECKING:
    from medama_py.ingest.ip import IPAddress, IPFilter
    from medama_py.ingest.umami_payload import EventData, UmamiPayload
    from medama_py.ingest.useragent import UserAgent

__all__ = [
    "MAX_BACKFILL_DAYS",
    "PAGE_VIEW",
    "UmamiHit",
    "UmamiRequest",
    "UmamiSite",
    "build_hit",
    "check_sender",
    "hit_time",
    "is_bot_user_agent",
    "open_visit",
]

# A `timestamp` may backfill this far; later than the clock (with a little skew) is refused.
MAX_BACKFILL_DAYS = 366
_CLOCK_SKEW = timedelta(minutes=5)
PAGE_VIEW, CUSTOM_EVENT = 1, 2
# Inputs longer than this skip the parse caches, so hostile input cannot pin memory.
_MAX_CACHED_LEN = 512
# Property key under which a custom event's name appears among Medama's event properties.
EVENT_NAME_KEY = "event"
# HTTP libraries and tools: Umami (isbot) drops them; Medama's UA parser knows the crawlers.
_HTTP_CLIENT_RE = re.compile(
    r"curl/|wget/|python-requests|python-urllib|python-httpx|aiohttp|go-http-client|okhttp|libwww-perl|"
    r"httpie|scrapy|java/|apache-httpclient|node-fetch|axios/|undici|postmanruntime|guzzlehttp|ruby|phantomjs",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class UmamiSite:
    """The website a hit names: its UUID and its registered hostname (where Medama's rows go)."""

    uuid: str
    hostname: str


class UmamiRequest(NamedTuple):
    """What the handler gathers from the request besides the body. The IP serves the block list only."""

    ip: IPAddress | None
    user_agent: str
    accept_language: str
    cache: str | None
    now: datetime


class UmamiHit(NamedTuple):
    """An accepted hit: what to write, the visit the answer's token carries, and the answer's ids."""

    item: WriteItem
    visit: Visit


def is_bot_user_agent(user_agent: str) -> bool:
    """Crawlers, headless browsers and HTTP libraries; `Mozilla/5.0 Umami/<version>` (@umami/node) is not one."""
    if not user_agent:
        return False
    # Cached like the UA parser: the same few hundred agents arrive over and over; long ones skip the cache.
    return _is_bot(user_agent) if len(user_agent) > _MAX_CACHED_LEN else _is_bot_cached(user_agent)


def _is_bot(user_agent: str) -> bool:
    return parse_user_agent(user_agent).is_bot or _HTTP_CLIENT_RE.search(user_agent) is not None


_is_bot_cached = functools.lru_cache(maxsize=4096)(_is_bot)


def check_sender(payload: UmamiPayload, req: UmamiRequest, ip_filter: IPFilter, spam: frozenset[str]) -> bool:
    """False for a bot (answered beep-boop, nothing stored); raise 403 for a blocked address.

    A spam referrer counts as a bot, as Medama drops those hits silently too.
    """
    if is_bot_user_agent(payload.user_agent or req.user_agent):
        return False
    referrer = _host_of(payload.referrer or "")
    if referrer and is_spam_referrer(referrer, spam):
        return False
    if req.ip is not None and ip_filter.is_blocked(req.ip):
        raise Forbidden("Forbidden")
    return True


def hit_time(payload: UmamiPayload, now: datetime) -> datetime:
    """The hit's time: `timestamp` (unix seconds) when given, bounded to the past MAX_BACKFILL_DAYS."""
    if payload.timestamp is None:
        return now
    try:
        moment = datetime.fromtimestamp(payload.timestamp, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadRequest("timestamp is out of range") from None
    if moment > now + _CLOCK_SKEW:
        raise BadRequest("timestamp is in the future")
    if moment < now - timedelta(days=MAX_BACKFILL_DAYS):
        raise BadRequest(f"timestamp is more than {MAX_BACKFILL_DAYS} days old")
    return moment


def open_visit(site: UmamiSite, token: Visit | None, at_ms: int, distinct: str | None) -> tuple[Visit, bool]:
    """The hit's visit and whether it starts a new one.

    A token continues its visit if it belongs to this site and the visit is under 30 minutes old;
    anything else starts a new visit whose session is the visit itself, unless a distinct id names the
    session.
    """
    fresh = (
        token is not None
        and token.website == site.uuid
        and token.started_ms <= at_ms + _CLOCK_SKEW.total_seconds() * 1000
        and at_ms - token.started_ms < VISIT_SECONDS * 1000
    )
    if token is not None and fresh:
        visit, new = token, False
    else:
        visit_id = new_uuid()
        visit, new = Visit(site.uuid, visit_id, visit_id, at_ms), True
    return (visit.with_session(distinct) if distinct else visit), new


def _host_of(url: str) -> str:
    if len(url) > _MAX_CACHED_LEN:
        return _referrer_host(url)
    return _referrer_host_cached(url) if url else ""


def _referrer_host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


# The same few thousand referrers come back over and over (checked for spam before the page is split).
_referrer_host_cached = functools.lru_cache(maxsize=4096)(_referrer_host)


@dataclass(frozen=True, slots=True)
class _Page:
    """The page URL and referrer, split the Umami way (paths kept as sent, limits applied)."""

    hostname: str
    path: str
    query: str
    medama_path: str
    referrer_domain: str
    referrer_path: str
    referrer_query: str
    medama_referrer: tuple[str, str]
    # utm_source, utm_medium, utm_campaign (Medama's three), utm_content, utm_term.
    utm: tuple[str, str, str, str, str]
    path_bit: int


def _split_page(payload: UmamiPayload, site_hostname: str) -> _Page:
    args = (payload.url or "", payload.referrer or "", payload.hostname or "", site_hostname)
    if len(args[0]) + len(args[1]) > _MAX_CACHED_LEN:
        return _split(*args)
    return _split_cached(*args)


def _split(raw_url: str, raw_referrer: str, reported_host: str, site_hostname: str) -> _Page:
    try:
        url = urlsplit(raw_url)
        referrer = urlsplit(raw_referrer)
    except ValueError:
        raise BadRequest("url or referrer is not a valid URL") from None
    hostname = (reported_host or url.hostname or "").removeprefix("www.")
    path = (url.path + (f"#{url.fragment}" if url.fragment else ""))[:MAX_TEXT]
    ref_domain = (referrer.hostname or "").removeprefix("www.")
    if not ref_domain or ref_domain == (hostname or site_hostname.lower().removeprefix("www.")):
        # Same-origin navigation (or a bare path) is not a referrer, as in Umami.
        ref_domain, ref_path, ref_query, medama_ref = "", "", "", ("", "")
    else:
        ref_path, ref_query = referrer.path[:MAX_TEXT], referrer.query[:MAX_TEXT]
        try:
            ref = parse_referrer(raw_referrer, url.hostname or hostname)
            medama_ref = (ref.host, ref.group)
        except URLError:
            medama_ref = ("", "")
    medama_path = normalise_path(unquote(url.path, errors="replace") + (f"#{url.fragment}" if url.fragment else ""))
    if holds_control_character(medama_path) or "\x00" in raw_url:  # no NUL, no line break stored (docs/security.md)
        raise BadRequest("url is not a valid URL")
    query = url.query[:MAX_TEXT]
    utm = tuple(value[:MAX_TEXT] for value in (*utm_values(query), *_utm_extra(query)))
    return _Page(
        hostname,
        path,
        query,
        medama_path[:MAX_TEXT],
        ref_domain,
        ref_path,
        ref_query,
        medama_ref,
        (utm[0], utm[1], utm[2], utm[3], utm[4]),
        page_bit(path),
    )


_split_cached = functools.lru_cache(maxsize=8192)(_split)


def _utm_extra(query: str) -> tuple[str, str]:
    """utm_content and utm_term (Medama keeps only source, medium and campaign), first values."""
    found: dict[str, str] = {}
    if "utm_" in query:
        for pair in query.split("&"):
            key, _, value = pair.partition("=")
            if key in ("utm_content", "utm_term") and key not in found:
                found[key] = drop_control_characters(unquote(value.replace("+", " "), errors="replace"))[:MAX_TEXT]
    return found.get("utm_content", ""), found.get("utm_term", "")


def _device(agent: UserAgent, screen: str | None) -> str:
    """Medama's device name from the User-Agent; without one, from the screen width as Umami does, else Desktop."""
    if agent.device != UNKNOWN:
        return agent.device
    width = (screen or "").partition("x")[0]
    if not width.isdigit():
        return "Desktop"
    pixels = int(width)
    return "Desktop" if pixels >= 1024 else "Tablet" if pixels >= 480 else "Mobile"


def _languages(payload: UmamiPayload, req: UmamiRequest) -> tuple[str, str]:
    try:
        names = parse_accept_language(payload.language or req.accept_language)
    except LanguageError:
        return UNKNOWN, UNKNOWN
    return names.base, names.dialect


class _Draft(NamedTuple):
    """Everything a page view and a custom event share."""

    payload: UmamiPayload
    site: UmamiSite
    visit: Visit
    new_visit: bool
    new_visitor: bool
    at: datetime
    at_ms: int
    page: _Page
    browser: str
    os: str
    device: str
    country: str
    data: list[EventData]
    languages: tuple[str, str]


def _umami_row(draft: _Draft, ids: tuple[str, str | None], kind: int, new_visitor: bool) -> tuple[object, ...]:
    """The umami_hits row, in UMAMI_HIT_COLUMNS order: mostly what `views` and `events` do not hold.

    `ids` are the bid (the page view's, or the one a custom event happened on) and a custom event's batch id.

    Absent values are NULL, as Umami stores them (and NULLs are the cheapest values for the writer); so is the
    reported hostname when it is the site's own.
    """
    p, page = draft.payload, draft.page
    hostname = page.hostname[:MAX_TEXT]
    return (
        *ids, draft.site.hostname, draft.visit.session, draft.visit.visit, kind, p.name,
        hostname if hostname and hostname != draft.site.hostname else None,
        page.path or None, page.query or None, (p.title or "")[:MAX_TEXT] or None,
        page.referrer_path or None, page.referrer_query or None, page.referrer_domain or None,
        page.utm[3] or None, page.utm[4] or None,
        p.screen or None, p.language or None, p.tag or None, p.id,
        new_visitor, draft.at,
    )  # fmt: skip


def _data_rows(draft: _Draft, event_id: str) -> tuple[tuple[object, ...], ...]:
    """umami_event_data rows, in UMAMI_DATA_COLUMNS order; `event_id` is a page view's bid, an event's batch id."""
    if not draft.data:  # most hits carry no event data
        return ()
    site, name = draft.site, draft.payload.name
    return tuple(
        (event_id, site.uuid, site.hostname, name, d.key, d.data_type, d.text, d.number, draft.at) for d in draft.data
    )


def _page_view(draft: _Draft) -> UmamiHit:
    p, page, visit = draft.payload, draft.page, draft.visit
    bid = new_time_uuid(draft.at_ms)
    bit = page.path_bit
    source, medium, campaign = page.utm[:3]
    row = ViewRow(
        bid=bid,
        hostname=draft.site.hostname,
        pathname=page.medama_path,
        # /umami/script.js answers Medama's pings (p, q); other clients count per new session and per visit.
        is_unique_user=p.p if p.p is not None else draft.new_visitor,
        is_unique_page=p.q if p.q is not None else not (visit.pages & bit),
        referrer_host=page.medama_referrer[0],
        referrer_group=page.medama_referrer[1],
        country=draft.country,
        ua_browser=draft.browser,
        ua_os=draft.os,
        ua_device_type=draft.device,
        utm_source=source,
        utm_medium=medium,
        utm_campaign=campaign,
        date_created=draft.at,
    )
    row.language_base, row.language_dialect = draft.languages
    pairs = tuple((d.key, d.text) for d in draft.data) if draft.data else ()
    events = EventRows(new_typeid("event", draft.at_ms), draft.site.hostname, bid, pairs, draft.at) if pairs else None
    duration = _previous_view_duration(draft)
    item = WriteItem(
        view=row,
        events=events,
        duration=duration,
        umami=UmamiRows(_umami_row(draft, (bid, None), PAGE_VIEW, row.is_unique_user), _data_rows(draft, bid)),
        # The previous view was stored `duration` before this hit: only views since then are searched.
        duration_at=draft.at if duration is not None else None,
    )
    return UmamiHit(item, visit.with_view(bid, draft.at_ms, bit))


def _previous_view_duration(draft: _Draft) -> tuple[str, int] | None:
    """A new page view ends the visit's previous one: its time on page becomes Medama's duration_ms."""
    visit = draft.visit
    if draft.new_visit or visit.last_view is None:
        return None
    elapsed = draft.at_ms - visit.last_view_ms
    return (visit.last_view, elapsed) if 0 < elapsed <= MAX_DURATION_MS else None


def _custom_event(draft: _Draft, name: str) -> UmamiHit:
    visit = draft.visit
    # The page view it happened on, as Medama's tracker links a click to its page load.
    bid = visit.last_view if visit.last_view is not None and not draft.new_visit else ""
    batch_id = new_typeid("event", draft.at_ms)
    pairs = ((EVENT_NAME_KEY, name), *((d.key, d.text) for d in draft.data if d.key != EVENT_NAME_KEY))
    item = WriteItem(
        events=EventRows(batch_id, draft.site.hostname, bid, pairs, draft.at),
        umami=UmamiRows(
            _umami_row(draft, (bid, batch_id), CUSTOM_EVENT, draft.new_visitor), _data_rows(draft, batch_id)
        ),
    )
    return UmamiHit(item, visit)


def _identify(draft: _Draft) -> UmamiHit:
    """`umami.identify(id, data)`: the session's data; the distinct id itself already names the session."""
    site, session, distinct_id = draft.site, draft.visit.session, draft.payload.id
    rows = tuple(
        (site.uuid, site.hostname, session, distinct_id, d.key, d.data_type, d.text, d.number, draft.at)
        for d in draft.data
    )  # fmt: skip
    return UmamiHit(WriteItem(umami=UmamiRows(session_data=rows)), draft.visit)


def build_hit(
    kind: str,
    payload: UmamiPayload,
    site: UmamiSite,
    req: UmamiRequest,
    at: tuple[datetime, int],
    visit: tuple[Visit, bool],
    new_visitor: bool,
) -> UmamiHit:
    """The rows of an accepted hit (`kind` is event or identify) and the visit its answer carries.

    `at` is the hit's time (hit_time) and the same in milliseconds since 1970, `visit` what open_visit decided.

    Raises:
        BadRequest: an unparsable URL or referrer, event data over the limits.
    """
    agent = parse_user_agent(payload.user_agent or req.user_agent)
    # Positional, in _Draft's field order: from keywords a NamedTuple of 14 fields costs ~0.4 us more per hit.
    draft = _Draft(
        payload,
        site,
        visit[0],  # visit
        visit[1],  # new_visit
        new_visitor,
        at[0],  # at
        at[1],  # at_ms
        _split_page(payload, site.hostname),  # page
        agent.browser,
        agent.os,
        _device(agent, payload.screen),
        (country_for_timezone(payload.tz) if payload.tz else None) or UNKNOWN,  # country
        flatten_event_data(payload.data) if payload.data else [],  # data
        _languages(payload, req),
    )
    if kind == "identify":
        return _identify(draft)
    return _page_view(draft) if payload.name is None else _custom_event(draft, payload.name)
