"""The ping cache protocol (docs/tracker.md#the-ping-protocol) with real UTC day boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medama_py.errors import BadRequest
from medama_py.ingest.ping import PingAnswer, answer_ping, http_date

NOW = datetime(2024, 5, 3, 15, 30, 10, 500_000, tzinfo=UTC)
TODAY = "Fri, 03 May 2024 00:00:00 GMT"
UNTIL_MIDNIGHT = 8 * 3600 + 29 * 60 + 49  # 15:30:10.5 → 24:00, truncated

PINGS = [
    (None, PingAnswer("0", TODAY, "no-cache")),
    ("", PingAnswer("0", TODAY, "no-cache")),
    ("Thu, 02 May 2024 23:59:59 GMT", PingAnswer("0", TODAY, "no-cache")),
    ("Mon, 01 Jan 2001 00:00:00 GMT", PingAnswer("0", TODAY, "no-cache")),
    (TODAY, PingAnswer("1", TODAY, f"max-age={UNTIL_MIDNIGHT}")),
    (
        "Fri, 03 May 2024 12:00:00 GMT",
        PingAnswer("1", "Fri, 03 May 2024 12:00:00 GMT", f"max-age={UNTIL_MIDNIGHT + 12 * 3600}"),
    ),
    # The weekday is not checked, names are case-insensitive, and the value is echoed verbatim.
    ("sun, 03 MAY 2024 00:00:00 GMT", PingAnswer("1", "sun, 03 MAY 2024 00:00:00 GMT", f"max-age={UNTIL_MIDNIGHT}")),
    # A future date is "not unique" with max-age beyond a day.
    (
        "Sat, 04 May 2024 00:00:00 GMT",
        PingAnswer("1", "Sat, 04 May 2024 00:00:00 GMT", f"max-age={UNTIL_MIDNIGHT + 86400}"),
    ),
    ("Fri, 03 May 0000 00:00:00 GMT", PingAnswer("0", TODAY, "no-cache")),
]


@pytest.mark.parametrize(("header", "expected"), PINGS)
def test_answer_ping(header: str | None, expected: PingAnswer) -> None:
    assert answer_ping(header, NOW) == expected


@pytest.mark.parametrize(
    "header",
    [
        "yesterday",
        "Fri, 3 May 2024 00:00:00 GMT",
        "Fri, 03 May 24 00:00:00 GMT",
        "Fri, 03 May 2024 00:00:00 UTC",
        "Fri, 03 May 2024 00:00:00 gmt",
        "Fri, 03 Foo 2024 00:00:00 GMT",
        "Xyz, 03 May 2024 00:00:00 GMT",
        "Fri, 31 Apr 2024 00:00:00 GMT",
        "Fri, 03 May 2024 24:00:00 GMT",
        "Fri, 03 May 2024 00:60:00 GMT",
        " Fri, 03 May 2024 00:00:00 GMT",
        "Fri, 03 May 2024 00:00:00 GMT x",
        "2024-05-03T00:00:00Z",
    ],
)
def test_malformed_if_modified_since_is_400(header: str) -> None:
    with pytest.raises(BadRequest):
        answer_ping(header, NOW)


def test_day_boundary_is_utc_midnight() -> None:
    just_after = datetime(2024, 5, 4, 0, 0, 0, tzinfo=UTC)
    assert answer_ping(TODAY, just_after).body == "0"
    assert answer_ping(TODAY, just_after - timedelta(microseconds=1)).body == "1"


def test_http_date_uses_utc_even_for_other_zones() -> None:
    from zoneinfo import ZoneInfo

    assert http_date(datetime(2024, 5, 3, 1, 0, tzinfo=ZoneInfo("Europe/Berlin"))) == "Thu, 02 May 2024 23:00:00 GMT"


@given(st.text(max_size=60))
def test_ping_only_ever_raises_bad_request(header: str) -> None:
    try:
        answer = answer_ping(header, NOW)
    except BadRequest:
        return
    assert answer.body in {"0", "1"}


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9000, 1, 1), timezones=st.just(UTC)))  # noqa: DTZ001
def test_own_last_modified_round_trips(moment: datetime) -> None:
    first = answer_ping(None, moment)
    again = answer_ping(first.last_modified, moment)
    assert again.body == "1"
    assert 0 <= int(again.cache_control.removeprefix("max-age=")) <= 86400  # truncated: 0 in the last second
