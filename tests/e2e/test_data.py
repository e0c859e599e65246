"""Own your data end to end: export over HTTP and from the command line, backup under load, restore."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import tarfile
import threading
from contextlib import closing
from typing import TYPE_CHECKING

import duckdb
import httpx
import pytest

from tests.support.hits import make_custom, make_hit
from tests.support.server import (
    BROWSER_UA,
    Server,
    logged_in_client,
    medama_command,
    register_website,
    running_server,
)

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e

HEADERS = {"User-Agent": BROWSER_UA, "Accept-Language": "en-GB,en;q=0.9", "Content-Type": "text/plain"}
SITE = "shop.example"


def _load(server: Server, bid: str, path: str, site: str = SITE) -> httpx.Response:
    body = make_hit(b=bid, u=f"https://{site}{path}", r="", q=True, t="Europe/Paris")
    return httpx.post(f"{server.base_url}/api/event/hit", content=body, headers=HEADERS, timeout=10)


def _medama(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*medama_command(), *args], capture_output=True, text=True, timeout=120, check=False)


def test_export_streams_each_format_and_checks_its_parameters(tmp_path: Path) -> None:
    with running_server(tmp_path / "data") as server, closing(logged_in_client(server)) as admin:
        register_website(admin, SITE)
        register_website(admin, "other.example")
        for i in range(30):
            assert _load(server, f"b{i}", f"/p{i % 4}").status_code == 204
        assert _load(server, "x1", "/", "other.example").status_code == 204
        custom = make_custom(SITE, {"plan": "pro"}, bid="b1")
        assert httpx.post(f"{server.base_url}/api/event/hit", content=custom, headers=HEADERS).status_code == 204

        csv_answer = admin.get(f"/api/website/{SITE}/export")
        assert csv_answer.status_code == 200
        assert csv_answer.headers["content-type"].startswith("text/csv")
        assert csv_answer.headers["content-disposition"] == f'attachment; filename="{SITE}-views.csv"'
        rows = list(csv.DictReader(io.StringIO(csv_answer.text)))
        assert len(rows) == 30
        assert {row["hostname"] for row in rows} == {SITE}
        assert {row["pathname"] for row in rows} == {"/p0", "/p1", "/p2", "/p3"}

        ndjson = admin.get(f"/api/website/{SITE}/export", params={"format": "ndjson", "table": "events"})
        assert ndjson.status_code == 200
        events = [json.loads(line) for line in ndjson.text.splitlines()]
        assert [(e["group_name"], e["name"], e["value"]) for e in events] == [(SITE, "plan", "pro")]

        parquet = admin.get(f"/api/website/{SITE}/export", params={"format": "parquet", "chart[stat]": "x"})
        assert parquet.status_code == 200
        (tmp_path / "v.parquet").write_bytes(parquet.content)
        count = duckdb.execute("SELECT count(*) FROM read_parquet(?)", [str(tmp_path / "v.parquet")]).fetchone()
        assert count == (30,)

        future = admin.get(f"/api/website/{SITE}/export", params={"start": "2999-01-01T00:00:00Z"})
        assert future.status_code == 200
        assert future.text.count("\n") == 1  # the header only

        for params, needle in (
            ({"format": "xlsx"}, "'format' must be one of csv, ndjson, parquet"),
            ({"table": "users"}, "'table' must be one of events, views"),
            ({"start": "yesterday"}, "'start'"),
            ({"start": "2024-02-01T00:00:00Z", "end": "2024-01-01T00:00:00Z"}, "'end' is before 'start'"),
        ):
            bad = admin.get(f"/api/website/{SITE}/export", params=params)
            assert bad.status_code == 400, params
            assert needle in bad.json()["error"]["message"]
        assert admin.get("/api/website/missing.example/export").status_code == 404
        assert httpx.get(f"{server.base_url}/api/website/{SITE}/export").status_code == 401
        assert not list((tmp_path / "data").glob(".medama-*")), "temporary export files are removed"
        oldest = admin.get("/api/user/usage").json()["analytics"]["oldestPageView"]
        # Compared as instants: DuckDB's CSV drops a fraction's trailing zeros (.45198), the API keeps six digits.
        first = min(dt.datetime.fromisoformat(row["date_created"]) for row in rows)
        assert dt.datetime.fromisoformat(oldest) == first

    # The same rows from the command line, against the stopped server's file.
    out = tmp_path / "cli.csv"
    result = _medama("export", "-analyticsdb", str(server.analyticsdb), "-hostname", SITE, "-out", str(out))
    assert result.returncode == 0, result.stderr
    assert "wrote 30 views rows of shop.example" in result.stderr
    assert sorted(r["bid"] for r in csv.DictReader(out.open())) == sorted(row["bid"] for row in rows)


def test_backup_under_load_restores_every_acknowledged_hit(tmp_path: Path) -> None:
    acknowledged: list[str] = []
    stop = threading.Event()
    with running_server(tmp_path / "live") as server, closing(logged_in_client(server)) as admin:
        register_website(admin, SITE)
        key = admin.post("/api/user/api-keys", json={"name": "backup"}).json()["key"]

        def load() -> None:
            i = 0
            while not stop.is_set():
                bid = f"load{i}"
                if _load(server, bid, f"/l{i % 7}").status_code == 204:
                    acknowledged.append(bid)
                i += 1

        worker = threading.Thread(target=load)
        worker.start()
        try:
            while len(acknowledged) < 50:
                stop.wait(0.05)
            before_backup = set(acknowledged)
            result = _medama("backup", "-url", server.base_url, "-key", key, "-out", str(tmp_path / "b.tar.gz"))
            assert result.returncode == 0, result.stderr
        finally:
            stop.set()
            worker.join()
        assert admin.post("/api/backup").status_code == 200  # the cookie works as well
        assert httpx.post(f"{server.base_url}/api/backup").status_code == 401
        with tarfile.open(tmp_path / "b.tar.gz") as tar:
            assert tar.getnames() == ["manifest.json", "me_meta.db", "me_analytics.db"]
            manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest["rows"]["meta"]["websites"] == 1
    assert manifest["versions"]["duckdb"] == duckdb.__version__
    live_rows = set(duckdb.connect(str(server.analyticsdb), read_only=True).sql("SELECT bid FROM views").fetchall())
    assert {(bid,) for bid in acknowledged} <= live_rows  # nothing lost from the live database

    restored = tmp_path / "restored"
    result = _medama(
        "restore",
        str(tmp_path / "b.tar.gz"),
        "-appdb",
        str(restored / "me_meta.db"),
        "-analyticsdb",
        str(restored / "me_analytics.db"),
    )
    assert result.returncode == 0, result.stderr
    backed_up = {
        row[0]
        for row in duckdb.connect(str(restored / "me_analytics.db"), read_only=True)
        .sql("SELECT bid FROM views")
        .fetchall()
    }
    assert before_backup <= backed_up  # every hit acknowledged before the backup began is in it
    assert manifest["rows"]["analytics"]["views"] == len(backed_up)

    again = _medama(
        "restore",
        str(tmp_path / "b.tar.gz"),
        "-appdb",
        str(restored / "me_meta.db"),
        "-analyticsdb",
        str(restored / "me_analytics.db"),
    )
    assert again.returncode == 1
    assert "already exists: restore only into an empty data directory" in again.stderr

    with running_server(restored) as server, closing(logged_in_client(server)) as admin:
        summary = admin.get(f"/api/website/{SITE}/summary")
        assert summary.status_code == 200
        assert summary.json()["current"]["pageviews"] == len(backed_up)


def test_a_damaged_archive_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    archive = tmp_path / "bad.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in (
            ("manifest.json", b'{"kind": "medama_py-backup", "files": {}}'),
            ("me_meta.db", b"x"),
            ("me_analytics.db", b"y"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    target = tmp_path / "data"
    result = _medama("restore", str(archive), "-appdb", str(target / "m.db"), "-analyticsdb", str(target / "a.db"))
    assert result.returncode == 1
    assert "does not match its checksum" in result.stderr
    assert not (target / "m.db").exists()
    assert not (target / "a.db").exists()
    (tmp_path / "junk.tar.gz").write_bytes(b"not an archive")
    junk = _medama(
        "restore", str(tmp_path / "junk.tar.gz"), "-appdb", str(target / "m.db"), "-analyticsdb", str(target / "a.db")
    )
    assert junk.returncode == 1
    assert "cannot read" in junk.stderr
