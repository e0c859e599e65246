"""The ingest benchmark's ceiling: a bare ASGI app answering 204 to everything (no framework, no work).

Run under the same uvicorn settings as the real server, it measures what the ASGI server and the
load generator alone can do on this machine; bench/ingest.py reports medama_py as a ratio of it.
"""

from __future__ import annotations

from typing import Any

_START = {"type": "http.response.start", "status": 204, "headers": []}
_BODY = {"type": "http.response.body", "body": b""}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:  # drain the request body, as a real handler must
        message = await receive()
        more = message.get("more_body", False)
    await send(_START)
    await send(_BODY)
