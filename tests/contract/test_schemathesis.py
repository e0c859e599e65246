"""Schemathesis against our openapi.yaml on a live server, for the issue-2 operations: no 5xx, and every
response (status, content type, headers, body) conforms to the document.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.api.helpers import SeedUser, seed_data_dir
from tests.support.server import DEFAULT_PASSWORD, DEFAULT_USERNAME, logged_in_client, running_server

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.server import Server

pytestmark = pytest.mark.e2e  # schemathesis against the real server

OPENAPI = Path(__file__).resolve().parents[2] / "openapi.yaml"
ISSUE_2_PATHS = r"^/api/(auth/|user|tenant/|websites)"
# The admin owns a website, so a generated DELETE /user is refused (409) instead of ending the session's user.
ADMIN = SeedUser("user_01h455vb4pex5vsknk084sn0ad", DEFAULT_USERNAME, DEFAULT_PASSWORD, websites=("owned.example",))


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("schemathesis") / "data"
    seed_data_dir(data, users=[ADMIN], with_admin=False)
    with running_server(data) as running:
        yield running
        assert "Traceback" not in running.log()


@pytest.fixture(scope="module")
def session_cookie(fuzzed_server: Server) -> str:
    with closing(logged_in_client(fuzzed_server)) as client:
        return str(client.cookies["_me_sess"])


# Loaded from the committed file at import; the live server's URL is given per call.
issue_2_schema = schemathesis.openapi.from_path(str(OPENAPI)).include(path_regex=ISSUE_2_PATHS)
# The cookie comes from a real login, so schemathesis must not invent (or drop) it; hostile cookies are
# covered by tests/api/test_hostile.py.
issue_2_schema.config.generation.update(with_security_parameters=False)
# A schema-violating body can also be too large: 413 is a rejection too (the body limit is 64 KB).
issue_2_schema.config.checks.negative_data_rejection.expected_statuses.append("413")


@issue_2_schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_issue_2_operations_conform(case: schemathesis.Case[Any], fuzzed_server: Server, session_cookie: str) -> None:
    # Logout would revoke the shared session: it runs with whatever cookie the case itself generates.
    headers = {} if case.path == "/api/auth/logout" else {"Cookie": f"_me_sess={session_cookie}"}
    case.call_and_validate(base_url=fuzzed_server.base_url, headers=headers)
