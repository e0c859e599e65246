"""Unknown query parameter names are ignored; known ones stay strict (docs/compatibility.md).

Medama's own dashboard forwards every page parameter it does not consume (`chart[stat]=pageviews`,
`chart[type]=bar`) to all thirteen stats endpoints, and Medama's server ignores names it does not know.
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medama_py.errors import BadRequest
from medama_py.stats.filters import FIELDS
from medama_py.stats.params import MAX_CONDITIONS, parse_params
from medama_py.stats.reports import REPORTS
from tests.stats.harness import ENDPOINTS
from tests.stats.test_snapshots import FILTERS, MARCH
from tests.support.examples import examples

if TYPE_CHECKING:
    import httpx

DASHBOARD_STATE = "chart[stat]=pageviews&chart[type]=bar&x=1"
SCALARS = {"start", "end", "previous", "interval", "summary", "limit", "offset", "grouped", "locale"}
NAME_CHARS = string.ascii_letters + string.digits + "_[]%.-"


def _is_ours(name: str) -> bool:
    leading = name[: len(name) - len(name.lstrip(string.ascii_letters + string.digits + "_"))]
    return name in SCALARS or leading in FIELDS


# Names nobody here knows: bare, bracketed like a filter, or nested; none starts with a filter field's name.
UNKNOWN_NAMES = st.one_of(
    st.text(NAME_CHARS, min_size=1, max_size=12),
    st.builds(
        "{}[{}]".format,
        st.text(string.ascii_lowercase + "_", min_size=1, max_size=10),
        st.sampled_from(["eq", "neq", "stat", "type", "", "in", "x][y"]),
    ),
    st.sampled_from(["chart[stat]", "chart[type]", "utm_content[eq]", "x", "_", "Path[eq]", "[path][eq]", "paths[eq]"]),
).filter(lambda name: not _is_ours(name))
VALUES = st.text(max_size=20)
BASES = [*FILTERS.values(), f"{MARCH}&interval=week&previous=true&summary=true&limit=3&offset=1&grouped=0&locale=1"]


@settings(max_examples=examples(300), deadline=None)
@given(
    base=st.sampled_from(BASES),
    endpoint=st.sampled_from(ENDPOINTS),
    extra=st.lists(st.tuples(UNKNOWN_NAMES, VALUES), min_size=1, max_size=5),
    where=st.integers(0, 20),
)
def test_unknown_names_never_change_the_decoded_request(
    base: str, endpoint: str, extra: list[tuple[str, str]], where: int
) -> None:
    items = parse_qsl(base, keep_blank_values=True)
    accepts = REPORTS[endpoint].accepts
    mixed = items[:where] + extra + items[where:]
    assert parse_params(mixed, "example.com", accepts=accepts) == parse_params(items, "example.com", accepts=accepts)


BAD_KNOWN = [
    ("start", "2024-01-01"),
    ("end", "tomorrow"),
    ("limit", "0"),
    ("path[like]", "/"),
    ("browser[eq][x]", "Chrome"),
    ("path]", "1"),
    ("country", "France"),
]


@settings(max_examples=examples(200), deadline=None)
@given(
    bad=st.sampled_from(BAD_KNOWN),
    extra=st.lists(st.tuples(UNKNOWN_NAMES, VALUES), max_size=5),
    endpoint=st.sampled_from([e for e in ENDPOINTS if "limit" in REPORTS[e].accepts]),
)
def test_a_known_name_with_a_bad_value_is_still_400(
    bad: tuple[str, str], extra: list[tuple[str, str]], endpoint: str
) -> None:
    with pytest.raises(BadRequest) as raised:
        parse_params([*extra, bad], "example.com", accepts=REPORTS[endpoint].accepts)
    assert f"'{bad[0]}" in raised.value.detail


def test_filter_conditions_are_capped() -> None:
    at_cap = [("path[neq]", f"/{i}") for i in range(MAX_CONDITIONS)]
    assert len(parse_params(at_cap, "example.com", accepts=frozenset()).filters.conditions) == MAX_CONDITIONS
    with pytest.raises(BadRequest, match=f"at most {MAX_CONDITIONS}"):
        parse_params([*at_cap, ("os[eq]", "Linux")], "example.com", accepts=frozenset())


# ---- over HTTP, on the real server --------------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("query", ["", f"{MARCH}&interval=week&previous=true", "summary=true&path[starts_with]=/blog"])
def test_every_endpoint_answers_the_same_with_the_dashboards_state(client: httpx.Client, query: str) -> None:
    for endpoint in ENDPOINTS:
        plain = client.get(f"/api/website/example.com/{endpoint}?{query}")
        assert plain.status_code == 200, (endpoint, plain.text)
        for state in (DASHBOARD_STATE, "chart%5Bstat%5D=duration", "utm_content[eq]=x&foo"):
            mixed = client.get(f"/api/website/example.com/{endpoint}?{state}&{query}")
            assert (mixed.status_code, mixed.content) == (200, plain.content), (endpoint, state)


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("query", "named"),
    [("path]=1", "'path]'"), ("path[is]=/", "'path[is]'"), ("limit=x", "'limit'"), ("start=2024", "'start'")],
)
def test_known_names_stay_strict_beside_unknown_ones(client: httpx.Client, query: str, named: str) -> None:
    for endpoint in ("pages", "browsers"):
        response = client.get(f"/api/website/example.com/{endpoint}?{DASHBOARD_STATE}&{query}")
        assert response.status_code == 400
        assert named in response.json()["error"]["message"]


@pytest.mark.e2e
def test_the_other_get_endpoints_ignore_unknown_names(client: httpx.Client) -> None:
    for path in ("/api/websites", "/api/websites?summary=true", "/api/user/usage", "/api/event/ping?u=/a"):
        plain = client.get(path)
        assert plain.status_code == 200, (path, plain.text)
        joined = "&" if "?" in path else "?"
        mixed = client.get(f"{path}{joined}{DASHBOARD_STATE}&utm_content[eq]=x")
        assert mixed.status_code == 200, (path, mixed.text)
        if path.startswith("/api/websites"):
            assert mixed.json() == plain.json()
    assert client.get(f"/api/websites?{DASHBOARD_STATE}&summary=maybe").status_code == 400
