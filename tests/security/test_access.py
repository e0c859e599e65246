"""Stats authorisation: a user reads only the websites it may read (docs/security.md, "Authorisation")."""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
import pytest

from medama_py.stats.reports import REPORTS
from tests.api.helpers import SeedUser, assert_error, seed_data_dir
from tests.support.rows import make_view
from tests.support.server import logged_in_client, running_server

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.server import Server

pytestmark = pytest.mark.e2e  # the real server

OWNER = SeedUser("user_01h455vb4pex5vsknk084sn0zz", "owner", "owner-password", websites=("theirs.example",))
MINE = SeedUser(
    "user_01h455vb4pex5vsknk084sn0yy", "reader", "reader-password", websites=("mine.example",), role="viewer"
)
WHEN = datetime(2024, 3, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("access") / "data"
    views = [
        make_view(hostname="theirs.example", date_created=WHEN),
        make_view(hostname="mine.example", date_created=WHEN),
    ]
    seed_data_dir(data, users=[OWNER, MINE], views=views)
    with running_server(data) as running:
        yield running


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_another_users_website_reads_as_missing(server: Server, report: str) -> None:
    with closing(logged_in_client(server, MINE.username, MINE.password)) as reader:
        assert_error(reader.get(f"/api/website/theirs.example/{report}"), 404, "website not found")
        assert reader.get(f"/api/website/mine.example/{report}").status_code == 200


def test_the_owner_reads_its_website(server: Server) -> None:
    with closing(logged_in_client(server, OWNER.username, OWNER.password)) as owner:
        response = owner.get("/api/website/theirs.example/summary")
        assert response.status_code == 200
        assert response.json()["current"]["visitors"] == 1
        # An admin reads every website (docs/accounts.md).
        assert owner.get("/api/website/mine.example/summary").status_code == 200


def test_bad_parameters_still_answer_400_before_the_access_check(server: Server) -> None:
    with closing(logged_in_client(server, MINE.username, MINE.password)) as reader:
        assert reader.get("/api/website/theirs.example/summary", params={"start": "not-a-date"}).status_code == 400


def test_anonymous_is_401_before_anything(server: Server) -> None:
    assert_error(httpx.get(f"{server.base_url}/api/website/theirs.example/summary"), 401)
