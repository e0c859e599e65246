"""openapi.yaml ↔ the reference contract ↔ the routes the application really serves (ours is a superset)."""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from litestar.routes import HTTPRoute

from medama_py.app import create_app
from medama_py.config import Config

ROOT = Path(__file__).resolve().parents[2]
OURS_PATH = ROOT / "openapi.yaml"


def reference_path() -> Path:
    """Medama's published contract, kept in the repository with its licence; MEDAMA_REFERENCE_OPENAPI overrides it."""
    override = os.environ.get("MEDAMA_REFERENCE_OPENAPI")
    return Path(override) if override else Path(__file__).with_name("reference") / "medama-openapi.yaml"


REFERENCE_PATH = reference_path()
METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
# Served on purpose without an operation: the SPA/asset fallback, the document itself, and the hidden
# Litestar schema router that only ever answers 404.
# Static files (tracker scripts, the dashboard) are not API operations.
UNDOCUMENTED = {"/", "/{path}", "/openapi.yaml", "/umami/script.js"}
# /umami/v1 serves exactly the operations documented under /umami/api (Umami Cloud's path style).
UNDOCUMENTED_PREFIXES = ("/api/_openapi", "/umami/v1/")

Operation = tuple[str, str]  # (METHOD, /api/path)


@functools.cache
def reference() -> dict[str, Any]:
    """The reference contract, parsed once per run (callers only read it)."""
    loaded: dict[str, Any] = yaml.load(REFERENCE_PATH.read_text(), Loader=yaml.CSafeLoader)
    return loaded


@functools.cache
def ours() -> dict[str, Any]:
    """openapi.yaml, parsed once per run by libyaml (0.09 s; pure-Python yaml takes 0.54); callers only read it."""
    loaded: dict[str, Any] = yaml.load(OURS_PATH.read_text(), Loader=yaml.CSafeLoader)
    return loaded


def operations(document: dict[str, Any], prefix: str = "") -> dict[Operation, dict[str, Any]]:
    return {
        (method.upper(), prefix + path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def reference_operations() -> dict[Operation, dict[str, Any]]:
    return operations(reference(), prefix="/api")  # the reference's paths are relative to /api


def resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def shape(document: dict[str, Any], schema: Any, depth: int = 0, tag: str | None = None) -> Any:
    """The field names of a schema, recursively: objects → {name: shape}, arrays → [shape], scalars → type.

    A discriminator's tag property is left out: the reference names it only in `discriminator`, ours also
    lists it among the properties of each variant.
    """
    schema = resolve(document, schema)
    if not isinstance(schema, dict) or depth > 6:
        return None
    tag = schema.get("discriminator", {}).get("propertyName", tag)
    for combinator in ("oneOf", "anyOf", "allOf"):
        if combinator in schema:
            shapes = [shape(document, part, depth + 1, tag) for part in schema[combinator]]
            shapes = [s for s in shapes if s not in (None, "null")]
            return shapes[0] if len(shapes) == 1 else shapes
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else kinds
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {}).items()
        return {name: shape(document, sub, depth + 1) for name, sub in properties if name != tag}
    if kind == "array":
        return [shape(document, schema.get("items", {}), depth + 1)]
    return "number" if kind in ("integer", "number") else kind


def json_schema_of(document: dict[str, Any], body: Any) -> Any:
    body = resolve(document, body)
    content = body.get("content", {}) if isinstance(body, dict) else {}
    for media, entry in content.items():
        if "json" in media:
            return entry.get("schema")
    return None


@pytest.fixture(scope="module")
def app_routes() -> set[tuple[str, str, bool]]:
    """(METHOD, path, documented?) for every HTTP route handler of the application."""
    with warnings.catch_warnings():
        # Litestar's own deprecation notices (inferred dependencies) are not this test's subject.
        warnings.simplefilter("ignore", DeprecationWarning)
        app = create_app(Config())
    found: set[tuple[str, str, bool]] = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", route.path)
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method in ("HEAD", "OPTIONS") and path not in UNDOCUMENTED:
                    continue
                found.add((method, path, bool(handler.resolve_include_in_schema())))
    return found


@pytest.mark.e2e  # runs scripts/openapi.py
def test_committed_openapi_yaml_is_what_the_app_generates() -> None:
    generated = subprocess.run(
        [sys.executable, "scripts/openapi.py"], capture_output=True, text=True, check=True, cwd=ROOT, timeout=120
    ).stdout
    assert generated == OURS_PATH.read_text(), "openapi.yaml is stale: run `make openapi` and commit it"


def test_every_reference_operation_is_served_and_documented() -> None:
    documented = set(operations(ours()))
    missing = sorted(set(reference_operations()) - documented)
    assert missing == [], f"reference operations missing from openapi.yaml: {missing}"
    assert len(reference_operations()) == 28


def test_issue_2_operations_are_all_present() -> None:
    prefixes = ("/api/auth/", "/api/user", "/api/tenant/", "/api/websites")
    issue_2 = {op for op in reference_operations() if op[1].startswith(prefixes)}
    assert len(issue_2) == 13
    assert issue_2 <= set(operations(ours()))


def test_operation_ids_match_the_reference() -> None:
    mine = operations(ours())
    for key, operation in reference_operations().items():
        if key in mine:
            assert mine[key].get("operationId") == operation["operationId"], key


def test_cookie_security_matches_the_reference() -> None:
    ref, mine = reference(), operations(ours())
    for key, operation in reference_operations().items():
        if key not in mine:
            continue
        secured = bool(operation.get("security", ref.get("security")))
        assert bool(mine[key].get("security")) == secured, key
        if secured:
            # The cookie works as in Medama; other credentials (a share token on stats) are extra alternatives.
            assert {"CookieAuth": []} in mine[key]["security"], key


# Fields medama_py adds to a Medama response (documented in openapi.yaml; Medama's clients ignore them).
EXTENSIONS: dict[tuple[str, str], set[str]] = {
    ("GET", "/api/user/usage"): {"process", "analytics"},  # this process's RSS, the WAL, DuckDB's memory
}


def without_extensions(key: tuple[str, str], our_shape: Any) -> Any:
    extra = EXTENSIONS.get(key, set())
    if not extra or not isinstance(our_shape, dict):
        return our_shape
    assert extra <= set(our_shape), f"{key}: documented extensions missing: {extra - set(our_shape)}"
    return {name: sub for name, sub in our_shape.items() if name not in extra}


def test_request_and_response_fields_match_the_reference() -> None:
    ref, document = reference(), ours()
    mine = operations(document)
    wrong: list[str] = []
    undocumented: list[str] = []
    for key, operation in reference_operations().items():
        if key not in mine:
            continue
        pairs = [("request body", operation.get("requestBody"), mine[key].get("requestBody"))]
        pairs += [
            (f"response {status}", response, mine[key]["responses"].get(status))
            for status, response in operation["responses"].items()
            if status.startswith("2")
        ]
        for what, ref_part, our_part in pairs:
            ref_schema = json_schema_of(ref, ref_part)
            if ref_schema is None:
                continue
            our_schema = json_schema_of(document, our_part) if our_part is not None else None
            if our_schema is None:
                undocumented.append(f"{key} {what}")
            elif (ours_shape := without_extensions(key, shape(document, our_schema))) != shape(ref, ref_schema):
                wrong.append(f"{key} {what}: ours {ours_shape} != {shape(ref, ref_schema)}")
    assert wrong == []
    assert undocumented == []


def test_every_error_response_is_the_envelope() -> None:
    document = ours()
    envelope = {"error": {"code": "number", "message": "string"}}
    # Everything under /umami answers Umami's envelope instead (docs/umami.md).
    umami_envelope = {"error": {"code": "string", "message": "string", "status": "number"}}
    for key, operation in operations(document).items():
        expected = umami_envelope if key[1].startswith("/umami/") else envelope
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert shape(document, json_schema_of(document, response)) == expected, (key, status)


def test_every_served_route_is_documented(app_routes: set[tuple[str, str, bool]]) -> None:
    documented = set(operations(ours()))
    for method, path, in_schema in sorted(app_routes):
        if path in UNDOCUMENTED or path.startswith(UNDOCUMENTED_PREFIXES):
            continue
        assert in_schema, f"{method} {path} is served but excluded from the schema"
        assert (method, path) in documented, f"{method} {path} is served but missing from openapi.yaml"


def test_every_documented_operation_is_served(app_routes: set[tuple[str, str, bool]]) -> None:
    served = {(method, path) for method, path, _ in app_routes}
    for key in operations(ours()):
        assert key in served, f"{key} is documented but not served"
