"""The Umami route table (umami/routes.py) is what the server serves and what openapi.yaml documents: every
route answers its Struct exactly (no field more, none missing, the types it says), and the document lists
each route's query parameters and response schema from the same table."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

import msgspec
import pytest
import yaml

from medama_py.umami.queries import accepted_names, required_names
from medama_py.umami.routes import QUERIES, ROUTES
from tests.umami.seed import SeededSite, seed_site

if TYPE_CHECKING:
    import httpx

    from tests.support.server import Server

OPENAPI = Path(__file__).resolve().parents[2] / "openapi.yaml"
# A value for each parameter some route requires (the seeded site has an event `signup` with data `plan`).
REQUIRED_VALUES = {"type": "url", "event": "signup", "propertyName": "plan"}


@pytest.fixture(scope="module")
def site(umami_server: Server, cookie_client: httpx.Client) -> SeededSite:
    return seed_site(umami_server.base_url, cookie_client, "table.example", rounds=1)


def _struct_of(answer: Any) -> type[msgspec.Struct]:
    args = get_args(answer)
    struct: type[msgspec.Struct] = args[0] if args else answer
    return struct


def _assert_exact_fields(value: Any, struct: type[msgspec.Struct]) -> None:
    """The wire object has exactly the Struct's fields (recursing into nested Structs and lists of them)."""
    fields = {field.encode_name: field for field in msgspec.structs.fields(struct)}
    assert set(value) == set(fields), (struct.__name__, set(value) ^ set(fields))
    for name, field in fields.items():
        inner = [
            t for t in (field.type, *get_args(field.type)) if isinstance(t, type) and issubclass(t, msgspec.Struct)
        ]
        if inner and isinstance(value[name], dict):
            _assert_exact_fields(value[name], inner[0])
        if inner and isinstance(value[name], list):
            for item in value[name]:
                _assert_exact_fields(item, inner[0])


def test_every_route_answers_exactly_its_struct(umami: httpx.Client, site: SeededSite) -> None:
    now = int(time.time() * 1000)
    window = {"startAt": now - 86_400_000, "endAt": now + 3_600_000}
    sessions = umami.get(f"/websites/{site.website_id}/sessions", params=window).json()["data"]
    for path, route in ROUTES.items():
        url = path.format(website_id=site.website_id, session_id=sessions[0]["id"])
        params = {name: window.get(name, REQUIRED_VALUES.get(name)) for name in required_names(route.query)}
        response = umami.get(url, params=params)
        assert response.status_code == 200, (path, response.text)
        msgspec.json.decode(response.content, type=route.answer, strict=True)
        body = response.json()
        for item in body if isinstance(body, list) else [body]:
            _assert_exact_fields(item, _struct_of(route.answer))


def test_openapi_documents_the_table() -> None:
    document = yaml.load(OPENAPI.read_text(), Loader=yaml.CSafeLoader)  # libyaml: ~6x faster on this 300 kB file
    for path, query in QUERIES.items():
        operation = document["paths"][f"/umami/api{path}"]["get"]
        documented = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
        assert set(documented) == accepted_names(query), path
        assert {n for n, p in documented.items() if p["required"]} == set(required_names(query)), path
    for path, route in ROUTES.items():
        schema = document["paths"][f"/umami/api{path}"]["get"]["responses"]["200"]["content"]["application/json"]
        schema = schema["schema"]
        ref = schema["items"]["$ref"] if get_args(route.answer) else schema["$ref"]
        assert ref == f"#/components/schemas/{_struct_of(route.answer).__name__}", path
