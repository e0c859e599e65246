"""Roles, grants and share links on a real SQLite file: migrations 1040-1042 and the rules they enforce."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import pytest

from medama_py.errors import LastAdmin, ShareNotFound, UserExists, UserNotFound, WebsiteNotFound
from medama_py.model import ShareLink, User, Website
from medama_py.storage import accounts, shares
from medama_py.storage.meta import MetaStore

if TYPE_CHECKING:
    from pathlib import Path

NOW = 1_717_000_000
HASH = "$argon2id$v=19$m=65536,t=1,p=2$c2FsdA$aGFzaA"


def user(user_id: str, username: str) -> User:
    return User(user_id, username, HASH, "en", NOW, NOW)


@pytest.fixture
async def store(meta: MetaStore) -> MetaStore:
    """An admin and two websites of theirs."""
    await meta.create_user(user("user_admin", "admin"))
    await meta.create_website(Website("a.example", "user_admin", NOW, NOW))
    await meta.create_website(Website("b.example", "user_admin", NOW, NOW))
    return meta


async def test_users_without_a_role_row_are_admins(store: MetaStore) -> None:
    # The default admin is created through Medama's plain users table, as the Go server would.
    assert (await accounts.get_account(store, "user_admin")).role == "admin"


async def test_existing_users_become_admins_on_migration(tmp_path: Path) -> None:
    path = tmp_path / "me_meta.db"
    meta = MetaStore(str(path))
    await meta.open()
    await meta.create_user(user("user_old", "old"))
    await meta.close()
    with sqlite3.connect(path) as conn:  # as a file made before the accounts migrations
        conn.execute("DROP TABLE user_roles")
        conn.execute("DELETE FROM migrations WHERE id = 1040")
    meta = MetaStore(str(path))
    assert 1040 in await meta.open()
    try:
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT user_id, role FROM user_roles").fetchall() == [("user_old", "admin")]
    finally:
        await meta.close()


async def test_create_list_and_grants(store: MetaStore) -> None:
    await accounts.create_account(store, user("user_v", "viewer1"), "viewer", ["b.example", "a.example"])
    listed = await accounts.list_accounts(store)
    assert [(a.username, a.role, a.websites) for a in listed] == [
        ("admin", "admin", ()),
        ("viewer1", "viewer", ("a.example", "b.example")),
    ]
    assert await accounts.is_granted(store, "user_v", "a.example")
    await accounts.set_grants(store, "user_v", ["b.example"], NOW + 1)
    assert not await accounts.is_granted(store, "user_v", "a.example")
    assert [w.hostname for w in await accounts.granted_websites(store, "user_v")] == ["b.example"]
    with pytest.raises(WebsiteNotFound):
        await accounts.set_grants(store, "user_v", ["b.example", "nope.example"], NOW + 2)
    assert (await accounts.get_account(store, "user_v")).websites == ("b.example",)  # unchanged


async def test_create_refuses_duplicates_and_unknown_websites(store: MetaStore) -> None:
    with pytest.raises(UserExists):
        await accounts.create_account(store, user("user_x", "admin"), "viewer", [])
    with pytest.raises(WebsiteNotFound):
        await accounts.create_account(store, user("user_y", "someone"), "viewer", ["nope.example"])
    assert [a.username for a in await accounts.list_accounts(store)] == ["admin"]  # nothing half-created


async def test_last_admin_can_be_neither_demoted_nor_deleted(store: MetaStore) -> None:
    with pytest.raises(LastAdmin):
        await accounts.set_role(store, "user_admin", "viewer", NOW)
    with pytest.raises(LastAdmin):
        await accounts.delete_account(store, "user_admin", "user_admin")
    await accounts.create_account(store, user("user_b", "second"), "admin", [])
    await accounts.set_role(store, "user_admin", "viewer", NOW)
    with pytest.raises(LastAdmin):
        await accounts.set_role(store, "user_b", "viewer", NOW)
    await accounts.set_role(store, "user_admin", "admin", NOW)
    await accounts.delete_account(store, "user_b", "user_admin")
    with pytest.raises(UserNotFound):
        await accounts.get_account(store, "user_b")
    with pytest.raises(UserNotFound):
        await accounts.set_role(store, "user_b", "admin", NOW)


async def test_deleting_an_owner_hands_its_websites_to_the_heir(store: MetaStore) -> None:
    await accounts.create_account(store, user("user_b", "second"), "admin", [])
    await accounts.delete_account(store, "user_admin", "user_b")
    assert [w.user_id for w in await store.list_websites("user_b")] == ["user_b", "user_b"]


async def test_sessions_carry_the_role(store: MetaStore) -> None:
    await accounts.create_account(store, user("user_v", "viewer1"), "viewer", [])
    await store.add_session("h-admin", "user_admin", NOW, NOW + 10)
    await store.add_session("h-viewer", "user_v", NOW, NOW + 10)
    await store.add_session("h-ghost", "user_gone", NOW, NOW + 10)
    assert await accounts.session_caller(store, "h-admin", NOW) == ("user_admin", "admin")
    assert await accounts.session_caller(store, "h-viewer", NOW) == ("user_v", "viewer")
    assert await accounts.session_caller(store, "h-ghost", NOW) is None
    assert await accounts.session_caller(store, "h-admin", NOW + 10) is None
    await accounts.delete_account(store, "user_v", "user_admin")
    assert await accounts.session_caller(store, "h-viewer", NOW) is None


def link(link_id: str, hostname: str = "a.example", expires: int | None = None) -> ShareLink:
    return ShareLink(link_id, hostname, f"slug-{link_id}", False, NOW, expires, None)


async def test_share_links_open_expire_and_revoke(store: MetaStore) -> None:
    await shares.create_link(store, link("s1"), "hash-1", None)
    await shares.create_link(store, link("s2", expires=NOW + 5), "hash-2", HASH)
    found = await shares.find_active_link(store, "hash-2", NOW)
    assert found is not None
    assert (found.id, found.hostname, found.password) == ("s2", "a.example", HASH)
    assert await shares.find_active_link(store, "hash-2", NOW + 5) is None  # expired
    assert await shares.find_active_link(store, "hash-x", NOW) is None
    await shares.add_share_session(store, "tok-1", "s1", NOW, NOW + 100)
    assert await shares.share_session_hostname(store, "tok-1", NOW) == "a.example"
    assert (await shares.list_links(store, "a.example"))[0].date_last_used == NOW
    assert await shares.first_active_slug(store, "a.example", NOW) == "slug-s1"
    await shares.delete_link(store, "a.example", "s1")
    assert await shares.share_session_hostname(store, "tok-1", NOW) is None  # the token died with its link
    assert await shares.first_active_slug(store, "a.example", NOW) is None  # s2 has a password
    with pytest.raises(ShareNotFound):
        await shares.delete_link(store, "a.example", "s1")
    with pytest.raises(ShareNotFound):
        await shares.delete_link(store, "b.example", "s2")  # another website's link
    with pytest.raises(WebsiteNotFound):
        await shares.create_link(store, link("s3", "nope.example"), "hash-3", None)


async def test_renames_and_deletions_of_websites_carry_over(store: MetaStore) -> None:
    await accounts.create_account(store, user("user_v", "viewer1"), "viewer", ["a.example"])
    await shares.create_link(store, link("s1"), "hash-1", None)
    await store.rename_website("a.example", "renamed.example", NOW)
    assert (await accounts.get_account(store, "user_v")).websites == ("renamed.example",)
    assert [li.hostname for li in await shares.list_links(store, "renamed.example")] == ["renamed.example"]
    await store.delete_website("renamed.example")
    assert (await accounts.get_account(store, "user_v")).websites == ()
    assert await shares.find_active_link(store, "hash-1", NOW) is None
