"""GET/PATCH /api/data/retention and the usage page's oldest page view (docs/data.md#retention)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.api.helpers import assert_error

if TYPE_CHECKING:
    import httpx


def test_retention_defaults_to_forever_and_round_trips(client: httpx.Client) -> None:
    assert client.get("/api/data/retention").json() == {"months": 0}
    assert client.patch("/api/data/retention", json={"months": 13}).json() == {"months": 13}
    assert client.get("/api/data/retention").json() == {"months": 13}
    # Medama's own settings keep their exact shape.
    assert "retention_months" not in client.get("/api/tenant/settings").text
    assert client.patch("/api/data/retention", json={"months": 0}).json() == {"months": 0}


@pytest.mark.parametrize("body", [{"months": -1}, {"months": 1201}, {"months": 1.5}, {"months": "6"}, {}, []])
def test_bad_retention_values_are_400(client: httpx.Client, body: object) -> None:
    assert_error(client.patch("/api/data/retention", json=body), 400)


def test_retention_needs_a_session(anonymous: httpx.Client) -> None:
    assert_error(anonymous.get("/api/data/retention"), 401)
    assert_error(anonymous.patch("/api/data/retention", json={"months": 1}), 401)


def test_usage_has_no_oldest_page_view_while_there_is_none(client: httpx.Client) -> None:
    assert client.get("/api/user/usage").json()["analytics"]["oldestPageView"] is None
