"""The hit pipeline (docs/architecture.md#a-hit): decoding, each named step, and the order of outcomes."""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from medama_py.errors import BadRequest, InvalidCustomProperty, WebsiteNotFound
from medama_py.ingest.hit import CustomHit, LoadHit, UnloadHit, decode_hit
from medama_py.ingest.ip import IPFilter
from medama_py.ingest.pipeline import (
    Dropped,
    HitContext,
    IngestDeps,
    NewDuration,
    NewEvents,
    NewView,
    ViewRow,
    process,
)
from tests.support.hits import make_hit

NOW = datetime(2024, 5, 3, 12, 0, tzinfo=UTC)
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def make_ctx(**overrides: Any) -> HitContext:
    ctx = HitContext(
        ip=ipaddress.ip_address("203.0.113.9"), user_agent=CHROME, accept_language="en-GB,en;q=0.9", now=NOW
    )
    return replace(ctx, **overrides)


@pytest.fixture
def deps() -> IngestDeps:
    return IngestDeps(hostnames={"example.com"}, ip_filter=IPFilter.from_presets())


def run(body: bytes, deps: IngestDeps, **ctx: Any) -> object:
    return process(decode_hit(body), make_ctx(**ctx), deps)


def test_load_fills_every_column(deps: IngestDeps) -> None:
    outcome = run(make_hit(), deps)
    assert outcome == NewView(
        ViewRow(
            bid="bid1",
            hostname="example.com",
            pathname="/blog",
            is_unique_user=True,
            is_unique_page=False,
            referrer_host="www.google.com",
            referrer_group="Google",
            country="United Kingdom",
            language_base="English",
            language_dialect="British English",
            ua_browser="Chrome",
            ua_os="Linux",
            ua_device_type="Desktop",
            utm_source="news",
            utm_medium="mail",
            utm_campaign="spring",
            date_created=NOW,
        ),
        None,
    )


def test_load_properties_share_one_batch_id(deps: IngestDeps) -> None:
    outcome = run(make_hit(d={"plan": "pro", "n": -3, "ok": True, "no": False}), deps)
    assert isinstance(outcome, NewView)
    assert outcome.events is not None
    assert outcome.events.batch_id.startswith("event_")
    assert len(outcome.events.batch_id) == len("event_") + 26
    assert outcome.events.group_name == "example.com"
    assert outcome.events.bid == "bid1"
    assert outcome.events.pairs == (("plan", "pro"), ("n", "-3"), ("ok", "true"), ("no", "false"))


def test_load_with_empty_properties_has_a_batch_but_no_pairs(deps: IngestDeps) -> None:
    outcome = run(make_hit(d={}), deps)
    assert isinstance(outcome, NewView)
    assert outcome.events is not None
    assert outcome.events.pairs == ()


def test_unload_and_custom(deps: IngestDeps) -> None:
    assert run(b'{"e":"unload","b":"bid1","m":1500}', deps) == NewDuration("bid1", 1500)
    outcome = run(b'{"e":"custom","g":"example.com","d":{"click":"buy"}}', deps)
    assert isinstance(outcome, NewEvents)
    assert outcome.events.bid == ""
    assert outcome.events.pairs == (("click", "buy"),)


def test_unload_needs_no_website_or_user_agent(deps: IngestDeps) -> None:
    assert run(b'{"e":"unload","b":"zzz","m":1}', deps, user_agent="") == NewDuration("zzz", 1)


@pytest.mark.parametrize(
    ("body", "ctx", "reason"),
    [
        (make_hit(), {"user_agent": BOT}, "bot user agent"),
        (make_hit(), {"user_agent": "curl/8.5.0"}, "unrecognised user agent"),
        # One unknown UA part plus an unknown timezone reaches the limit of two.
        (make_hit(t="UTC"), {"user_agent": "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15"}, None),
        (
            make_hit(t=...),
            {"user_agent": "Mozilla/5.0 (SMART-TV; Tizen 6.0) AppleWebKit/537.36 TV Safari/537.36"},
            None,
        ),
    ],
)
def test_drops(body: bytes, ctx: dict[str, Any], reason: str | None, deps: IngestDeps) -> None:
    outcome = run(body, deps, **ctx)
    assert isinstance(outcome, Dropped)
    if reason is not None:
        assert outcome.reason == reason


def test_unknown_timezone_alone_is_kept_as_unknown_country(deps: IngestDeps) -> None:
    outcome = run(make_hit(t="Etc/UTC"), deps)
    assert isinstance(outcome, NewView)
    assert outcome.view.country == "Unknown"


def test_malformed_language_counts_as_unknown(deps: IngestDeps) -> None:
    kept = run(make_hit(), deps, accept_language="xx-??")
    assert isinstance(kept, NewView)
    assert (kept.view.language_base, kept.view.language_dialect) == ("Unknown", "Unknown")
    dropped = run(make_hit(t=""), deps, accept_language="xx-??")
    assert isinstance(dropped, Dropped)


def test_missing_language_does_not_count(deps: IngestDeps) -> None:
    outcome = run(make_hit(t=""), deps, accept_language="")
    assert isinstance(outcome, NewView)
    assert outcome.view.language_base == "Unknown"


def test_blocked_ip_drops_every_type(deps: IngestDeps) -> None:
    deps.ip_filter.update(block_abusive=False, block_tor=False, blocked_ips=["203.0.113.9"])
    for body in (make_hit(), b'{"e":"unload","b":"x","m":5}', b'{"e":"custom","g":"nope","d":{}}'):
        assert run(body, deps) == Dropped("blocked ip")


def test_no_client_ip_is_400(deps: IngestDeps) -> None:
    with pytest.raises(BadRequest, match="no valid ip found in request"):
        run(make_hit(), deps, ip=None)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (make_hit(u="https://other.com/"), WebsiteNotFound),
        (make_hit(u="https://Example.com/"), WebsiteNotFound),
        (make_hit(u="not a url"), BadRequest),
        (make_hit(r=":bad"), BadRequest),
        (b'{"e":"custom","g":"example.com","d":{}}', InvalidCustomProperty),
        (b'{"e":"custom","g":"other.com","d":{"a":"b"}}', WebsiteNotFound),
    ],
)
def test_errors(body: bytes, error: type[Exception], deps: IngestDeps) -> None:
    with pytest.raises(error):
        run(body, deps)


def test_website_check_comes_before_the_bot_check(deps: IngestDeps) -> None:
    with pytest.raises(WebsiteNotFound):
        run(make_hit(u="https://other.com/"), deps, user_agent=BOT)


def test_spam_referrer_is_dropped(deps: IngestDeps) -> None:
    deps.spam_hosts = frozenset({"spam.example"})
    assert run(make_hit(r="https://www.spam.example/x"), deps) == Dropped("spam referrer")


def test_drop_reason_is_logged_at_debug(deps: IngestDeps, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="medama_py.ingest.pipeline"):
        run(make_hit(), deps, user_agent=BOT)
    assert "hit dropped: bot user agent" in caplog.text


DECODED = [
    (b'{"e":"load","b":"","u":"/","p":false,"q":true,"extra":[1]}', LoadHit(b="", u="/", p=False, q=True)),
    (b'{"e":"unload","b":"x","m":4294967295}', UnloadHit(b="x", m=4294967295)),
    (b'{"e":"custom","g":"h","d":{"a":1}}', CustomHit(g="h", d={"a": 1})),
]


@pytest.mark.parametrize(("body", "hit"), DECODED)
def test_decode_hit(body: bytes, hit: object) -> None:
    assert decode_hit(body) == hit


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{}",
        b"[]",
        b"null",
        b'{"e":"view"}',
        b'{"e":1}',
        b'{"e":"load","b":"x","u":"/","p":true}',
        b'{"e":"load","b":"x","u":"/","p":"yes","q":true}',
        b'{"e":"load","b":"x","u":"/","p":true,"q":true,"d":null}',
        b'{"e":"load","b":"x","u":"/","p":true,"q":true,"d":{"a":1.5}}',
        b'{"e":"load","b":"x","u":"/","p":true,"q":true,"d":{"a":[1]}}',
        b'{"e":"load","b":"x","u":"/","p":true,"q":true,"d":{"a":null}}',
        b'{"e":"load","b":"x","u":"/","p":true,"q":true,"d":{"a":9223372036854775808}}',
        b'{"e":"unload","b":"x","m":0}',
        b'{"e":"unload","b":"x","m":-1}',
        b'{"e":"unload","b":"x","m":1.5}',
        b'{"e":"unload","b":"x","m":4294967296}',
        b'{"e":"custom","d":{"a":"b"}}',
        b'{"e":"load","b":"\xff","u":"/","p":true,"q":true}',
        b'{"e":"unload","b":"x","m":5} trailing',
    ],
)
def test_decode_rejects(body: bytes) -> None:
    with pytest.raises(BadRequest):
        decode_hit(body)
