"""MetaStore on a real SQLite file: users, websites, tenant settings and sessions with domain errors."""

from __future__ import annotations

import sqlite3
import uuid
from typing import TYPE_CHECKING

import pytest

from medama_py.errors import UserExists, UserNotFound, WebsiteExists, WebsiteNotFound, WebsitesOwned
from medama_py.model import TenantSettings, User, Website
from medama_py.storage.meta import MetaStore

if TYPE_CHECKING:
    from pathlib import Path

NOW = 1_717_000_000


def make_user(user_id: str = "user_01h455vb4pex5vsknk084sn02q", username: str = "alice") -> User:
    return User(user_id, username, "$argon2id$v=19$m=65536,t=1,p=2$c2FsdA$aGFzaA", "en", NOW, NOW)


@pytest.fixture
def store(meta: MetaStore) -> MetaStore:
    return meta


async def test_users_round_trip(store: MetaStore) -> None:
    assert await store.count_users() == 0
    user = make_user()
    await store.create_user(user)
    assert await store.count_users() == 1
    assert await store.get_user(user.id) == user
    assert await store.get_user_by_username("alice") == user
    with pytest.raises(UserNotFound):
        await store.get_user_by_username("Alice")  # exact, case-sensitive, as in Medama
    with pytest.raises(UserNotFound):
        await store.get_user("user_missing")
    with pytest.raises(UserExists):
        await store.create_user(make_user("user_other", "alice"))


async def test_user_settings_json_is_medama_shaped(store: MetaStore, tmp_path: Path) -> None:
    await store.create_user(make_user())
    with sqlite3.connect(tmp_path / "me_meta.db") as conn:
        assert conn.execute("SELECT settings FROM users").fetchone()[0] == '{"language": "en"}'


async def test_user_updates(store: MetaStore) -> None:
    await store.create_user(make_user())
    await store.create_user(make_user("user_b", "bob"))
    await store.update_username("user_01h455vb4pex5vsknk084sn02q", "alice2", NOW + 1)
    await store.update_password("user_01h455vb4pex5vsknk084sn02q", "new-hash", NOW + 2)
    await store.update_language("user_01h455vb4pex5vsknk084sn02q", "en", NOW + 3)
    user = await store.get_user("user_01h455vb4pex5vsknk084sn02q")
    assert (user.username, user.password, user.language, user.date_updated) == ("alice2", "new-hash", "en", NOW + 3)
    assert user.date_created == NOW
    with pytest.raises(UserExists):
        await store.update_username("user_01h455vb4pex5vsknk084sn02q", "bob", NOW + 4)
    with pytest.raises(UserNotFound):
        await store.update_password("user_missing", "x", NOW)
    # A failed update leaves the row as it was.
    assert (await store.get_user("user_01h455vb4pex5vsknk084sn02q")).username == "alice2"


async def test_delete_user_refused_while_owning_websites(store: MetaStore) -> None:
    user = make_user()
    await store.create_user(user)
    await store.create_website(Website("a.example", user.id, NOW, NOW))
    with pytest.raises(WebsitesOwned):
        await store.delete_user(user.id)
    assert await store.count_users() == 1
    await store.delete_website("a.example")
    await store.delete_user(user.id)
    assert await store.count_users() == 0
    with pytest.raises(UserNotFound):
        await store.delete_user(user.id)


async def test_websites(store: MetaStore) -> None:
    alice, bob = make_user(), make_user("user_b", "bob")
    await store.create_user(alice)
    await store.create_user(bob)
    for name in ("b.example", "a.example", "C.example"):
        await store.create_website(Website(name, alice.id, NOW, NOW))
    await store.create_website(Website("bob.example", bob.id, NOW, NOW))
    # Insertion order, as Medama's natural SQLite order.
    assert [w.hostname for w in await store.list_websites(alice.id)] == ["b.example", "a.example", "C.example"]
    assert [w.hostname for w in await store.list_websites(bob.id)] == ["bob.example"]
    assert await store.all_hostnames() == {"b.example", "a.example", "C.example", "bob.example"}
    found = await store.get_website("a.example")
    assert found == Website("a.example", alice.id, NOW, NOW, found.uuid)
    with pytest.raises(WebsiteNotFound):
        await store.get_website("A.EXAMPLE")
    with pytest.raises(WebsiteExists):
        await store.create_website(Website("bob.example", alice.id, NOW, NOW))
    with pytest.raises(UserNotFound):
        await store.create_website(Website("orphan.example", "user_gone", NOW, NOW))


async def test_rename_and_delete_website(store: MetaStore) -> None:
    user = make_user()
    await store.create_user(user)
    await store.create_website(Website("old.example", user.id, NOW, NOW))
    await store.create_website(Website("taken.example", user.id, NOW, NOW))
    old = await store.get_website("old.example")
    await store.rename_website("old.example", "new.example", NOW + 5)
    # The UUID follows the rename.
    assert await store.get_website("new.example") == Website("new.example", user.id, NOW, NOW + 5, old.uuid)
    assert await store.get_website_by_uuid(old.uuid) == await store.get_website("new.example")
    with pytest.raises(WebsiteNotFound):
        await store.get_website("old.example")
    with pytest.raises(WebsiteExists):
        await store.rename_website("new.example", "taken.example", NOW + 6)
    with pytest.raises(WebsiteNotFound):
        await store.rename_website("missing.example", "x.example", NOW)
    await store.delete_website("new.example")
    with pytest.raises(WebsiteNotFound):
        await store.delete_website("new.example")
    assert await store.all_hostnames() == {"taken.example"}


async def test_tenant_settings_defaults_and_upsert(store: MetaStore, tmp_path: Path) -> None:
    assert await store.get_settings() == TenantSettings()
    assert await store.get_settings() == TenantSettings("default", "true", "true", "")
    await store.put_settings({"script_type": "default,click-events", "blocked_ips": "10.0.0.1"}, NOW)
    await store.put_settings({"blocked_ips": "", "block_abusive_ips": "false"}, NOW + 1)
    assert await store.get_settings() == TenantSettings("default,click-events", "false", "true", "")
    with sqlite3.connect(tmp_path / "me_meta.db") as conn:
        rows = conn.execute("SELECT key, value, date_updated FROM tenant_settings ORDER BY key").fetchall()
    assert rows == [
        ("block_abusive_ips", "false", NOW + 1),
        ("blocked_ips", "", NOW + 1),
        ("script_type", "default,click-events", NOW),
    ]


async def test_unknown_settings_rows_are_ignored(store: MetaStore) -> None:
    await store.put_settings({"future_key": "x", "block_tor_exit_nodes": "false"}, NOW)
    assert await store.get_settings() == TenantSettings(block_tor_exit_nodes="false")


async def test_sessions_expire_and_revoke(store: MetaStore) -> None:
    for name in ("user_a", "user_b", "user_c"):
        await store.create_user(make_user(name, name))
    await store.add_session("hash-a", "user_a", NOW, NOW + 100)
    await store.add_session("hash-b", "user_b", NOW, NOW + 10)
    assert await store.session_user("hash-a", NOW + 1) == "user_a"
    assert await store.session_user("hash-b", NOW + 9) == "user_b"
    assert await store.session_user("hash-b", NOW + 10) is None
    assert await store.session_user("unknown", NOW) is None
    await store.delete_session("hash-a")
    assert await store.session_user("hash-a", NOW + 1) is None
    # Adding a session sweeps expired ones.
    await store.add_session("hash-c", "user_c", NOW + 50, NOW + 150)
    async with store.conn.execute("SELECT token_hash FROM sessions") as cur:
        assert [row[0] for row in await cur.fetchall()] == ["hash-c"]


async def test_sessions_survive_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "me_meta.db")
    first = MetaStore(path)
    await first.open()
    await first.create_user(make_user("user_a", "a"))
    await first.add_session("hash-a", "user_a", NOW, NOW + 100)
    await first.close()
    second = MetaStore(path)
    await second.open()
    try:
        assert await second.session_user("hash-a", NOW + 1) == "user_a"
    finally:
        await second.close()


async def test_a_password_change_keeps_only_the_named_session(store: MetaStore) -> None:
    await store.create_user(make_user("user_a", "a"))
    await store.create_user(make_user("user_b", "b"))
    for token, user in (("a1", "user_a"), ("a2", "user_a"), ("a3", "user_a"), ("b1", "user_b")):
        await store.add_session(token, user, NOW, NOW + 100)
    await store.update_password("user_a", "new-hash", NOW + 1, keep_session="a2")
    assert [await store.session_user(t, NOW + 2) for t in ("a1", "a2", "a3", "b1")] == [
        None,
        "user_a",
        None,
        "user_b",
    ]


async def test_deleting_a_user_deletes_its_sessions_only_when_the_delete_happens(store: MetaStore) -> None:
    await store.create_user(make_user("user_a", "a"))
    await store.create_website(Website("kept.example", "user_a", NOW, NOW))
    await store.add_session("a1", "user_a", NOW, NOW + 100)
    with pytest.raises(WebsitesOwned):
        await store.delete_user("user_a")
    assert await store.session_user("a1", NOW + 1) == "user_a"
    await store.delete_website("kept.example")
    await store.delete_user("user_a")
    async with store.conn.execute("SELECT count(*) FROM sessions") as cur:
        assert await cur.fetchone() == (0,)


async def test_closed_store_refuses_work(tmp_path: Path) -> None:
    meta = MetaStore(str(tmp_path / "me_meta.db"))
    with pytest.raises(RuntimeError, match="not open"):
        await meta.count_users()


async def test_website_uuids_are_stable_unique_and_found_by_uuid(store: MetaStore) -> None:
    user = make_user()
    await store.create_user(user)
    made = [await store.create_website(Website(f"{n}.example", user.id, NOW, NOW)) for n in ("a", "b")]
    assert len({w.uuid for w in made}) == 2
    assert all(str(uuid.UUID(w.uuid)) == w.uuid for w in made)
    assert [w.uuid for w in await store.list_websites(user.id)] == [w.uuid for w in made]
    assert await store.get_website_by_uuid(made[1].uuid.upper()) == made[1]
    assert await store.website_uuids() == {w.uuid: w.hostname for w in made}
    await store.delete_website("a.example")
    with pytest.raises(WebsiteNotFound):
        await store.get_website_by_uuid(made[0].uuid)
    with pytest.raises(WebsiteNotFound):
        await store.get_website_by_uuid("not-a-uuid")


async def test_websites_written_by_medama_get_a_uuid_at_open_that_then_stays(tmp_path: Path) -> None:
    path = tmp_path / "me_meta.db"
    first = MetaStore(str(path))
    await first.open()
    await first.create_user(make_user())
    await first.close()
    # Medama itself inserts websites without our table.
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO websites (hostname, user_id, date_created, date_updated) VALUES (?, ?, ?, ?)",
            ("medama.example", make_user().id, NOW, NOW),
        )
    uuids = []
    for _ in range(2):
        store = MetaStore(str(path))
        await store.open()
        uuids.append((await store.get_website("medama.example")).uuid)
        await store.close()
    assert uuids[0]
    assert uuids[0] == uuids[1]
