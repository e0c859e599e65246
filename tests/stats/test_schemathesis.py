"""schemathesis over the stats operations of the served openapi.yaml: generated parameters never give a 5xx.

Responses are also checked against the documented status codes and body schemas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance
from schemathesis.core.result import Ok

if TYPE_CHECKING:
    import httpx

    from tests.support.server import Server

pytestmark = pytest.mark.e2e

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def test_stats_operations_never_fail_on_the_server(stats_server: Server, client: httpx.Client) -> None:
    schema = schemathesis.openapi.from_url(f"{stats_server.base_url}/openapi.yaml")
    # The 13 stats reports; /export (raw rows, docs/data.md) shares the prefix but is not one.
    results = list(schema.include(path_regex=r"^/api/website/[^/]+/(?!export$)").get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == 13
    cookies = {"_me_sess": client.cookies["_me_sess"]}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case[Any]) -> None:
            # Most cases ask about a registered website with rows, so the reports run; the others keep the
            # generated hostname and exercise the 400/404 answers.
            hostname = str((case.path_parameters or {}).get("hostname", ""))
            if len(hostname) % 4:
                case.path_parameters = {"hostname": "example.com"}
            response = case.call(base_url=stats_server.base_url, cookies=cookies)
            case.validate_response(response, checks=CHECKS)

        check()
