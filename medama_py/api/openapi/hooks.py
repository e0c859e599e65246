"""The OpenAPI hooks: what each group of handlers does that Litestar cannot infer from their signatures.

Each hook edits the document in place; `HOOKS` runs them in order (medama_py/api/openapi/document.py).
"""

from __future__ import annotations

import copy
from typing import Any

import msgspec

from medama_py.api.openapi.stats_parameters import document_stats_parameters
from medama_py.api.schemas import HOSTNAME_PATTERN
from medama_py.api.umami_collect import BATCH_PATH, SEND_PATH
from medama_py.ingest.hit import Hit
from medama_py.ingest.umami_payload import UmamiPayload
from medama_py.umami.routes import QUERIES

__all__ = ["HOOKS"]


def _array_schemas(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [part for part in [schema, *schema.get("oneOf", [])] if part.get("type") == "array"]


def _json_and_text(schema: dict[str, Any]) -> dict[str, Any]:
    """The same body schema as JSON and as text/plain (what `sendBeacon` and no-cors `fetch` send)."""
    return {"application/json": {"schema": schema}, "text/plain": {"schema": copy.deepcopy(schema)}}


def document_admin_api(document: dict[str, Any]) -> None:
    """Say what the admin handlers really do where Litestar cannot infer it (Medama's contract).

    Tenant settings take unique features and unique IPv4 addresses; `summary` is a boolean (Go's ParseBool
    spellings); logout needs the cookie; login (200) and every 204 answer with an empty body, so they document
    no content.
    """
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("TenantSettingsGet", "TenantSettingsPatch"):
        properties = schemas.get(name, {}).get("properties", {})
        for array in _array_schemas(properties.get("script_type", {})):
            array["uniqueItems"] = True
        for array in _array_schemas(properties.get("blockedIPs", {})):
            array["uniqueItems"] = True
            array["items"] = {"type": "string", "format": "ipv4"}
    paths = document.get("paths", {})
    for parameter in paths.get("/api/websites", {}).get("get", {}).get("parameters", []):
        if parameter.get("name") == "summary":
            parameter["schema"] = {"type": "boolean", "default": False}
    for parameter in paths.get("/api/auth/logout", {}).get("post", {}).get("parameters", []):
        if parameter.get("name") == "_me_sess":  # logout without the cookie is a 400, as in Medama
            parameter["required"] = True
            parameter["schema"] = {"type": "string", "minLength": 1}
    login = paths.get("/api/auth/login", {}).get("post", {}).get("responses", {}).get("200")
    for item in paths.values():
        for operation in item.values():
            if isinstance(operation, dict) and "204" in operation.get("responses", {}):
                operation["responses"]["204"].pop("content", None)
    if login is not None:
        login.pop("content", None)


def document_event_hit(document: dict[str, Any]) -> None:
    """The tracker payloads of POST /api/event/hit, read from the raw body, so Litestar cannot see them.

    The same schema is offered as `text/plain`, which is what `fetch(..., {mode: 'no-cors'})` and
    `sendBeacon` send (docs/compatibility.md#hit-bodies).
    """
    hit = document.get("paths", {}).get("/api/event/hit", {}).get("post")
    if hit is None:
        return
    (schema,), components = msgspec.json.schema_components([Hit], ref_template="#/components/schemas/{name}")
    for component in components.values():
        tag = component.get("properties", {}).get("e")
        if tag is not None:  # msgspec gives the tag an enum only; say it is a string, as the reference does
            tag["type"] = "string"
    document.setdefault("components", {}).setdefault("schemas", {}).update(components)
    hit["requestBody"] = {"required": True, "content": _json_and_text(schema)}


# ---- accounts: users and their granted websites


def document_accounts(document: dict[str, Any]) -> None:
    """openapi.yaml hook: granted websites are hostnames (Litestar drops the constraints of list items)."""
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("AccountCreate", "AccountPatch"):
        websites = schemas.get(name, {}).get("properties", {}).get("websites", {})
        for array in [websites, *websites.get("oneOf", [])]:
            if array.get("type") == "array":
                array["items"] = {"type": "string", "minLength": 1, "maxLength": 253, "pattern": HOSTNAME_PATTERN}


# ---- the Umami-compatible API: collection bodies, Umami's error envelope, its credentials

_ANSWER_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {
            "type": "object",
            "description": "Stored: the visit token to send back as `x-umami-cache`, and the hit's ids",
            "required": ["cache", "sessionId", "visitId"],
            "properties": {
                "cache": {"type": "string"},
                "sessionId": {"type": "string", "format": "uuid"},
                "visitId": {"type": "string", "format": "uuid"},
            },
        },
        {"type": "object", "description": "A bot: nothing stored", "properties": {"beep": {"const": "boop"}}},
        {"type": "object", "description": "A `performance` report: accepted and ignored", "maxProperties": 0},
    ]
}
_BATCH_ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["size", "processed", "errors", "details", "cache"],
    "properties": {
        "size": {"type": "integer"},
        "processed": {"type": "integer"},
        "errors": {"type": "integer"},
        "details": {"type": "array", "items": {"type": "object"}},
        "cache": {"type": ["string", "null"]},
    },
}


def document_umami_collect(document: dict[str, Any]) -> None:
    """The bodies and answers of /umami/api/send and /umami/api/batch, read raw so Litestar cannot infer them."""
    (payload, components) = msgspec.json.schema_components([UmamiPayload], ref_template="#/components/schemas/{name}")
    document.setdefault("components", {}).setdefault("schemas", {}).update(components)
    hit = {
        "type": "object",
        "required": ["type", "payload"],
        "properties": {"type": {"type": "string", "enum": ["event", "identify", "performance"]}, "payload": payload[0]},
    }
    bodies = {SEND_PATH: (hit, _ANSWER_SCHEMA), BATCH_PATH: ({"type": "array", "items": hit}, _BATCH_ANSWER_SCHEMA)}
    # The error bodies get Umami's envelope from document_umami_api, which runs after this hook.
    for path, (body, answer) in bodies.items():
        operation = document.get("paths", {}).get(path, {}).get("post")
        if operation is None:
            continue
        operation["requestBody"] = {"required": True, "content": _json_and_text(body)}
        operation["responses"] = {
            "200": {"description": "Accepted", "content": {"application/json": {"schema": answer}}},
            "400": {"description": "Malformed body or unknown website"},
            "403": {"description": "The client address is on the block list"},
            "413": {"description": "Request body too large"},
            "500": {"description": "Internal error"},
        }


_CODES = ("bad-request", "unauthorized", "forbidden", "not-found", "too-many-requests")
_UMAMI_ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "code", "status"],
            "properties": {
                "message": {"type": "string"},
                "code": {"type": "string", "enum": [*_CODES, "server-error"]},
                "status": {"type": "integer"},
            },
        }
    },
}


def document_umami_api(document: dict[str, Any]) -> None:
    """openapi.yaml hook: /umami/* errors use Umami's envelope; keys and tokens are documented as credentials.

    Every route under /umami/api is also served under /umami/v1 (Umami Cloud's path style).
    """
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})["UmamiError"] = _UMAMI_ERROR
    components.setdefault("securitySchemes", {}).update(
        {
            "UmamiApiKey": {"type": "apiKey", "in": "header", "name": "x-umami-api-key"},
            "BearerAuth": {"type": "http", "scheme": "bearer", "description": "An API key or a login token"},
        }
    )
    for path, item in document.get("paths", {}).items():
        if not path.startswith("/umami/"):
            continue
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                if status.startswith(("4", "5")):
                    response["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/UmamiError"}}}


def _query_parameters(query: type[msgspec.Struct]) -> list[dict[str, Any]]:
    """One query parameter per field of a route's query Struct (umami/queries.py), in the Struct's order."""
    (ref,), components = msgspec.json.schema_components([query], ref_template="#/components/schemas/{name}")
    schema = components[ref["$ref"].rsplit("/", 1)[1]]
    required = set(schema.get("required", []))
    parameters = []
    for name, field in schema.get("properties", {}).items():
        description = field.pop("description", "")
        # An optional parameter is simply absent: `anyOf [T, null]` says no more than `required: false`.
        options = [part for part in field.pop("anyOf", []) if part.get("type") != "null"]
        if len(options) == 1:
            field.update(options[0])
        field.pop("title", None)
        if "enum" in field:
            field.setdefault("type", "string")
        if field.get("default", 0) is None:
            del field["default"]
        parameters.append(
            {"name": name, "in": "query", "required": name in required, "description": description, "schema": field}
        )
    return sorted(parameters, key=lambda parameter: not parameter["required"])  # the required ones first


def document_umami_read(document: dict[str, Any]) -> None:
    """openapi.yaml hook: the query parameters of the Umami read routes, which the handlers decode themselves."""
    paths = document.get("paths", {})
    for path, query in QUERIES.items():
        operation = paths.get(f"/umami/api{path}", {}).get("get")
        if operation is None:
            continue
        kept = [p for p in operation.get("parameters", []) if p.get("in") != "query"]
        operation["parameters"] = kept + _query_parameters(query)


# In order: the Umami error envelope comes after the Umami collection hook has set the responses.
HOOKS: list[Any] = [
    document_admin_api,
    document_event_hit,
    document_stats_parameters,
    document_umami_collect,
    document_umami_read,
    document_umami_api,
    document_accounts,
]
