"""Meta-database state of Umami collection: the visit token secret (migration 1030)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from medama_py.storage.meta import MetaStore

__all__ = ["visit_token_secret"]


async def visit_token_secret(meta: MetaStore) -> bytes:
    """The 32-byte secret that signs visit tokens; created by the migration, so it survives restarts."""
    async with meta.conn.execute("SELECT secret FROM umami_visit_secret WHERE id = 1") as cur:
        row = await cur.fetchone()
    if row is None or len(bytes(row[0])) < 32:
        raise RuntimeError("the Umami visit token secret is missing from the meta database")
    return bytes(row[0])
