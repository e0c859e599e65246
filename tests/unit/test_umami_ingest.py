"""Visit tokens, event-data flattening and the Umami checks, without a server."""

from __future__ import annotations

import hmac
import json
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medama_py.errors import BadRequest
from medama_py.ingest import umami_payload
from medama_py.ingest.umami import UmamiSite, is_bot_user_agent, open_visit
from medama_py.ingest.umami_collect import UNKNOWN_SITE_SECONDS, SiteDirectory
from medama_py.ingest.umami_payload import ARRAY, BOOLEAN, DATE, NUMBER, STRING, decode_send, flatten_event_data
from medama_py.ingest.visit_token import VISIT_SECONDS, Visit, VisitTokens, new_time_uuid, new_uuid, page_bit
from medama_py.jsonbody import decode_strictly

TOKENS = VisitTokens(b"k" * 32)
SITE = UmamiSite(str(uuid.uuid4()), "shop.example")
NOW_MS = int(datetime(2026, 12, 5, 12, tzinfo=UTC).timestamp() * 1000)


def test_a_token_round_trips_and_any_change_is_refused() -> None:
    start = Visit(SITE.uuid, str(uuid.uuid4()), str(uuid.uuid4()), NOW_MS)
    visit = start.with_view(str(uuid.uuid4()), NOW_MS + 5, page_bit("/a"))
    token = TOKENS.sign(visit)
    assert TOKENS.read(token) == visit
    assert VisitTokens(b"o" * 32).read(token) is None  # another server's secret
    for i in range(len(token)):
        changed = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        assert TOKENS.read(changed) is None


def test_remembered_tokens_read_and_sign_as_the_first_time_and_stay_bounded() -> None:
    tokens = VisitTokens(b"r" * 32, remembered=4)
    fresh = VisitTokens(b"r" * 32)
    visits = [Visit(SITE.uuid, str(uuid.uuid4()), str(uuid.uuid4()), NOW_MS + i) for i in range(10)]
    signed = [tokens.sign(visit) for visit in visits]
    # Same secret, nothing remembered: the same tokens, and each reads back as its visit.
    assert signed == [fresh.sign(visit) for visit in visits]
    assert [tokens.read(token) for token in signed] == visits
    assert [tokens.read(token) for token in signed] == visits  # now from memory
    # An equal visit (a custom event's, unchanged) answers the remembered token.
    assert tokens.sign(visits[3]._replace()) == signed[3]
    # A forged token is never remembered: it stays refused however often it comes.
    forged = signed[0][:-2] + ("AA" if signed[0][-2:] != "AA" else "BB")
    assert tokens.read(forged) is None
    assert tokens.read(forged) is None
    # Two generations of at most half the bound each way.
    assert len(tokens._visits._new) + len(tokens._visits._old) <= 4
    assert len(tokens._tokens._new) + len(tokens._tokens._old) <= 4


@given(key=st.binary(min_size=32, max_size=200), message=st.binary(max_size=300))
def test_the_prepared_key_signs_as_hmac_sha256(key: bytes, message: bytes) -> None:
    # Secrets shorter than, as long as and longer than SHA-256's 64-byte block; the same key signs twice.
    tokens = VisitTokens(key)
    expected = hmac.digest(key, message, "sha256")
    assert tokens._hmac(message) == expected
    assert tokens._hmac(message) == expected


def test_visit_ids_are_random_version_4_uuids() -> None:
    ids = [new_uuid() for _ in range(2000)]
    parsed = [uuid.UUID(text) for text in ids]
    assert all(
        u.version == 4 and u.variant == uuid.RFC_4122 and str(u) == text for u, text in zip(parsed, ids, strict=True)
    )
    assert len(set(ids)) == 2000
    assert {text[19] for text in ids} == set("89ab")  # every variant digit occurs


def test_page_view_ids_are_version_7_uuids_in_time_order() -> None:
    ids = [new_time_uuid(NOW_MS + step) for step in (0, 1, 1, 1000, 86_400_000)]
    parsed = [uuid.UUID(text) for text in ids]
    assert [u.version for u in parsed] == [7] * 5
    assert all(u.variant == uuid.RFC_4122 and str(u) == text for u, text in zip(parsed, ids, strict=True))
    assert [int.from_bytes(u.bytes[:6], "big") for u in parsed] == [NOW_MS + s for s in (0, 1, 1, 1000, 86_400_000)]
    assert ids[0] < ids[1] and ids[2] < ids[3] < ids[4]  # later milliseconds sort later, as text too
    # A token carries one as the visit's latest page view.
    visit = Visit(SITE.uuid, str(uuid.uuid4()), str(uuid.uuid4()), NOW_MS).with_view(ids[0], NOW_MS, page_bit("/"))
    assert TOKENS.read(TOKENS.sign(visit)) == visit


@given(st.text(max_size=300))
def test_arbitrary_text_is_never_a_token(text: str) -> None:
    assert TOKENS.read(text) is None


def test_a_token_continues_its_visit_for_thirty_minutes_on_its_site_only() -> None:
    first, new = open_visit(SITE, None, NOW_MS, None)
    assert new
    assert first.session == first.visit
    same, new = open_visit(SITE, first, NOW_MS + VISIT_SECONDS * 1000 - 1, None)
    assert (same, new) == (first, False)
    later, new = open_visit(SITE, first, NOW_MS + VISIT_SECONDS * 1000, None)
    assert new
    assert later.visit != first.visit
    other_site = UmamiSite(str(uuid.uuid4()), "other.example")
    assert open_visit(other_site, first, NOW_MS, None)[1]


def test_a_distinct_id_names_a_stable_session_per_site() -> None:
    one = TOKENS.distinct_session(SITE.uuid, "user-42")
    assert one == TOKENS.distinct_session(SITE.uuid, "user-42")
    assert one != TOKENS.distinct_session(SITE.uuid, "user-43")
    assert one != TOKENS.distinct_session(str(uuid.uuid4()), "user-42")
    visit, _ = open_visit(SITE, None, NOW_MS, one)
    assert visit.session == one
    assert visit.visit != one


def test_event_data_is_flattened_with_umamis_types() -> None:
    flat = flatten_event_data({"a": "x", "n": 2.5, "i": 3, "b": False, "d": "2026-01-02T10:00:00Z", "l": [1, "x"],
                               "o": {"p": {"q": "deep"}}, "none": None})  # fmt: skip
    assert {(d.key, d.data_type, d.text, d.number) for d in flat} == {
        ("a", STRING, "x", None),
        ("n", NUMBER, "2.5", 2.5),
        ("i", NUMBER, "3", 3.0),
        ("b", BOOLEAN, "false", None),
        ("d", DATE, "2026-01-02T10:00:00Z", None),
        ("l", ARRAY, '[1,"x"]', None),
        ("o.p.q", STRING, "deep", None),
    }


def test_event_data_limits() -> None:
    deep: dict[str, object] = {"v": 1}
    for _ in range(10):
        deep = {"k": deep}
    with pytest.raises(BadRequest):
        flatten_event_data(deep)
    with pytest.raises(BadRequest):
        flatten_event_data({str(i): i for i in range(201)})
    assert len(flatten_event_data({"s": "x" * 10_000})[0].text) == 500


def test_bots_are_told_by_the_user_agent_alone() -> None:
    assert not is_bot_user_agent("Mozilla/5.0 Umami/v20.11.0")
    assert not is_bot_user_agent("")
    for agent in ("curl/8.5.0", "python-requests/2.31", "Mozilla/5.0 (compatible; Googlebot/2.1)", "HeadlessChrome/1"):
        assert is_bot_user_agent(agent)


@pytest.mark.parametrize(
    "body",
    [b"", b"[]", b'{"type":"event"}', b'{"type":"event","payload":{"website":"x"}}', b'{"type":1,"payload":{}}'],
)
def test_malformed_bodies_are_bad_requests(body: bytes) -> None:
    with pytest.raises(BadRequest):
        decode_send(body)


_FIELD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=120), st.dictionaries(st.text(max_size=5), st.integers())
)
_PAYLOADS = st.dictionaries(
    st.sampled_from(["website", "hostname", "language", "url", "name", "data", "tag", "id", "timestamp", "p", "extra"]),
    _FIELD_VALUES,
) | st.fixed_dictionaries({"website": st.just(SITE.uuid)}, optional={"url": st.text(max_size=20)})


def _two_pass(body: bytes) -> object:
    """Envelope, then payload: the reading that explains every refusal."""
    return umami_payload._read_envelope(decode_strictly(umami_payload._envelope.decode, body))


@given(
    kind=st.sampled_from(["event", "identify", "performance", "other", 3]),
    payload=st.one_of(st.none(), _PAYLOADS, st.lists(st.integers(), max_size=2)),
)
def test_one_pass_decoding_reads_and_refuses_like_envelope_then_payload(kind: object, payload: object) -> None:
    body = json.dumps({"type": kind, "payload": payload}).encode()
    outcomes = []
    for decode in (decode_send, _two_pass):
        try:
            outcomes.append(decode(body))
        except BadRequest as exc:
            outcomes.append(exc.detail)
    assert outcomes[0] == outcomes[1]


async def test_an_unknown_website_is_answered_from_memory_for_a_few_seconds() -> None:
    # The lookup stands for the meta database: `registered` is what it holds right now.
    registered: dict[str, str] = {}
    lookups: list[str] = []
    now = [100.0]

    async def lookup(website: str) -> str | None:
        lookups.append(website)
        return registered.get(website)

    sites = SiteDirectory(lookup, {"shop.example"}, lambda: now[0])
    uuid_text = SITE.uuid
    assert await sites.find(uuid_text) is None
    assert await sites.find(uuid_text.upper()) is None  # the same UUID, not looked up again
    assert lookups == [uuid_text]
    # Registered meanwhile (an import keeping Umami's UUID): found once the memory of it expires.
    registered[uuid_text] = "shop.example"
    now[0] += UNKNOWN_SITE_SECONDS - 0.01
    assert await sites.find(uuid_text) is None
    now[0] += 0.02
    assert await sites.find(uuid_text) == UmamiSite(uuid_text, "shop.example")
    assert await sites.find(uuid_text) == UmamiSite(uuid_text, "shop.example")
    assert lookups == [uuid_text, uuid_text]
