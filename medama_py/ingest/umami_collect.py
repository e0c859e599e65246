"""The Umami collection service: /umami/api/send and /umami/api/batch from body to commit (docs/umami.md).

The HTTP layer (api/umami_collect.py) only reads the request and writes the answer; everything here is
plain Python over the ingestion steps (ingest/umami.py), the site directory, the distinct-id visitor days
and the group-commit writer. An answer leaves only after its hit's rows are committed.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from medama_py.errors import BadRequest, MedamaError
from medama_py.ingest.umami import UmamiSite, build_hit, check_sender, hit_time, open_visit
from medama_py.ingest.umami_payload import decode_batch, decode_send

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Container

    from medama_py.ingest.ip import IPFilter
    from medama_py.ingest.umami import UmamiHit, UmamiRequest
    from medama_py.ingest.umami_payload import UmamiSend
    from medama_py.ingest.visit_token import VisitTokens
    from medama_py.storage.writer import HitWriter

__all__ = ["BEEP", "UNKNOWN_SITE_SECONDS", "DistinctVisitorDays", "SiteDirectory", "UmamiCollector", "error_envelope"]

# What Umami answers a bot: 200, nothing stored.
BEEP: dict[str, object] = {"beep": "boop"}
_UMAMI_CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    413: "bad-request",
    429: "too-many-requests",
}


def error_envelope(status: int, message: str) -> dict[str, object]:
    """Umami's error body: {"error": {"message", "code", "status"}}."""
    code = _UMAMI_CODES.get(status, "server-error" if status >= 500 else "bad-request")
    return {"error": {"message": message, "code": code, "status": status}}


# A website UUID found nowhere is answered from memory this long (seconds), so a snippet or sender naming a
# deleted or mistyped website costs no meta-database query per hit; a website imported with that UUID meanwhile
# is found once it expires. At most this many such UUIDs are remembered (any number can be sent).
UNKNOWN_SITE_SECONDS = 5.0
_MAX_UNKNOWN_SITES = 4096


class SiteDirectory:
    """Website UUID → registered hostname, cached; a renamed or deleted site is looked up again.

    `clock` gives monotonic seconds (time.monotonic in the server), for how long an unknown UUID stays unknown.
    """

    def __init__(
        self,
        lookup: Callable[[str], Awaitable[str | None]],
        hostnames: Container[str],
        clock: Callable[[], float],
    ) -> None:
        self._lookup = lookup
        # The live hostname set the websites API maintains: a cached name missing from it is stale.
        self._hostnames = hostnames
        self._clock = clock
        self._known: dict[str, UmamiSite] = {}
        self._unknown: dict[str, float] = {}

    def known(self, website: str) -> UmamiSite | None:
        """The cached site, without a lookup (None when it is not cached or its hostname went away)."""
        site = self._known.get(website) or self._known.get(website.lower())
        return site if site is not None and site.hostname in self._hostnames else None

    async def find(self, website: str) -> UmamiSite | None:
        key = website.lower()
        site = self.known(key)
        if site is not None:
            return site
        unknown_until = self._unknown.get(key)
        if unknown_until is not None and self._clock() < unknown_until:
            return None
        hostname = await self._lookup(key)
        if hostname is None:
            self._known.pop(key, None)
            if len(self._unknown) >= _MAX_UNKNOWN_SITES:
                self._unknown.clear()
            self._unknown[key] = self._clock() + UNKNOWN_SITE_SECONDS
            return None
        self._unknown.pop(key, None)
        site = UmamiSite(key, hostname)
        self._known[key] = site
        return site


class DistinctVisitorDays:
    """The UTC days each distinct-id session has hits on, with the page map of each day.

    A distinct id counts one visitor a day, and each of its pages once a day, like Medama's pings do
    for a browser. Loaded from the store on first sight of a session, then kept here (bounded); a day
    is marked before the hit commits, so concurrent hits of one session count it once.
    """

    def __init__(self, load: Callable[[str], Awaitable[dict[int, int]]], limit: int = 50_000) -> None:
        self._load = load
        self._limit = limit
        self._days: dict[str, dict[int, int]] = {}

    async def days_of(self, session: str) -> dict[int, int]:
        """The session's days (UTC day → page map of its hits that day), loaded from the store on first sight."""
        days = self._days.get(session)
        if days is None:
            loaded = await self._load(session)
            # Another hit of this session may have filled the entry while we waited.
            days = self._days.setdefault(session, loaded)
            if len(self._days) > self._limit:
                del self._days[next(iter(self._days))]
        return days

    def loaded(self, session: str) -> dict[int, int] | None:
        """The session's days (day → page map) when they are in memory, else None (`days_of` loads them)."""
        return self._days.get(session)

    def mark(self, session: str, day: int, pages: int) -> None:
        """Record a hit of the session on `day` with the pages its visit has seen."""
        days = self._days.setdefault(session, {})
        days[day] = days.get(day, 0) | pages


class UmamiCollector:
    """Runs Umami-protocol hits through the checks, the ingestion steps and the writer."""

    def __init__(
        self,
        *,
        tokens: VisitTokens,
        sites: SiteDirectory,
        visitors: DistinctVisitorDays,
        writer: HitWriter,
        ip_filter: IPFilter,
        spam_hosts: frozenset[str] = frozenset(),
    ) -> None:
        self.tokens = tokens
        self.sites = sites
        self.visitors = visitors
        self.writer = writer
        self.ip_filter = ip_filter
        self.spam_hosts = spam_hosts

    async def send(self, body: bytes, req: UmamiRequest) -> dict[str, object]:
        """Answer one /umami/api/send body; raises MedamaError (400, 403) as the HTTP layer renders it."""
        message = decode_send(body)
        hit = await self._accept(message, req)
        if not isinstance(hit, dict):
            await self.writer.add_umami_hit(hit.item)
        return self._answer(hit)

    def send_now(self, body: bytes, req: UmamiRequest) -> tuple[dict[str, object], asyncio.Future[None] | None] | None:
        """`send` without a coroutine: the answer and the commit to wait for before it leaves.

        None when the hit needs a lookup first (a website not cached yet, a distinct id not seen since start):
        `send` then answers it. Raises as `send` does.
        """
        message = decode_send(body)
        hit = self._accept_now(message, req)
        if hit is None:
            return None
        if isinstance(hit, dict):
            return hit, None
        committed = self.writer.add_umami_hit(hit.item)
        return self._answer(hit), committed

    async def batch(self, body: bytes, req: UmamiRequest) -> dict[str, object]:
        """Answer a /umami/api/batch body: every item goes through `send`'s path; they commit together."""
        items = decode_batch(body)
        accepted: list[tuple[int, UmamiHit | dict[str, object]]] = []
        details: list[dict[str, object]] = []
        for index, raw in enumerate(items):
            try:
                accepted.append((index, await self._accept(decode_send(raw), req)))
            except MedamaError as exc:
                details.append({"index": index, "response": error_envelope(exc.status_code, exc.detail)})
        commits = [self.writer.add_umami_hit(hit.item) for _, hit in accepted if not isinstance(hit, dict)]
        if commits:
            await asyncio.gather(*commits)
        answers = [self._answer(hit) for _, hit in accepted]
        first_cache = next((a["cache"] for a in answers if "cache" in a), None)
        return {
            "size": len(items),
            "processed": len(accepted),
            "errors": len(details),
            "details": details,
            "cache": first_cache,
        }

    async def _accept(self, message: UmamiSend, req: UmamiRequest) -> UmamiHit | dict[str, object]:
        """The hit to write, or the answer for a hit that writes nothing (performance, bot)."""
        payload = message.payload
        if payload is None:
            return {}
        hit_time(payload, req.now)  # a bad timestamp answers before an unknown website
        site = self.sites.known(payload.website) or await self.sites.find(payload.website)
        if site is None:
            raise BadRequest("Website not found.")
        days = None
        if payload.id and message.type == "event":
            days = await self.visitors.days_of(self.tokens.distinct_session(site.uuid, payload.id))
        hit = self._accept_now(message, req, site, days)
        if hit is None:  # given the site and the days, nothing is left to look up
            raise RuntimeError("a Umami hit still needed a lookup")
        return hit

    def _accept_now(
        self,
        message: UmamiSend,
        req: UmamiRequest,
        site: UmamiSite | None = None,
        days: dict[int, int] | None = None,
    ) -> UmamiHit | dict[str, object] | None:
        """`_accept` from what is in memory (or given); None when the website or a distinct id's days are not."""
        payload = message.payload
        if payload is None:
            return {}
        at = hit_time(payload, req.now)
        site = site or self.sites.known(payload.website)
        if site is None:
            return None
        if not check_sender(payload, req, self.ip_filter, self.spam_hosts):
            return dict(BEEP)
        distinct = self.tokens.distinct_session(site.uuid, payload.id) if payload.id else None
        at_ms = int(at.timestamp() * 1000)
        visit, new_visit = open_visit(site, self.tokens.read(req.cache), at_ms, distinct)
        if distinct is None or message.type != "event":
            return build_hit(message.type, payload, site, req, (at, at_ms), (visit, new_visit), new_visit)
        days = days if days is not None else self.visitors.loaded(distinct)
        if days is None:
            return None
        day = at_ms // 86_400_000
        seen = days.get(day)
        visit = visit.with_session(distinct, seen or 0)
        hit = build_hit(message.type, payload, site, req, (at, at_ms), (visit, new_visit), seen is None)
        self.visitors.mark(distinct, day, hit.visit.pages)
        return hit

    def _answer(self, hit: UmamiHit | dict[str, object]) -> dict[str, object]:
        if isinstance(hit, dict):
            return hit
        visit = hit.visit
        return {"cache": self.tokens.sign(visit), "sessionId": visit.session, "visitId": visit.visit}
