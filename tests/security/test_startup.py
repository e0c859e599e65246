"""What start-up says and refuses: the default password warning, a second instance, file permissions."""

from __future__ import annotations

import stat
import subprocess
from contextlib import closing
from typing import TYPE_CHECKING

import pytest

from tests.support.server import free_port, logged_in_client, medama_command, running_server

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e  # real servers started and stopped

WARNING = "the admin account still uses the default password"


def test_the_default_password_is_warned_about_until_it_changes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_server(data) as first, closing(logged_in_client(first)) as admin:
        assert WARNING in first.log()
        assert admin.patch("/api/user", json={"password": "a better password"}).status_code == 200
    with running_server(data) as second:
        assert WARNING not in second.log()


def test_a_second_instance_on_the_same_file_says_why_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_server(data) as first:
        second = subprocess.run(
            [
                *medama_command(),
                "start",
                "-port",
                str(free_port()),
                "-appdb",
                str(first.appdb),
                "-analyticsdb",
                str(first.analyticsdb),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert second.returncode == 1
    errors = [line for line in second.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, second.stderr
    assert str(first.analyticsdb) in errors[0]
    assert "lock" in errors[0]
    assert f"process {first.process.pid}" in errors[0]
    assert "Traceback" not in second.stderr + second.stdout


def test_a_meta_file_that_is_not_a_database_ends_start_up_with_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "me_meta.db").write_bytes(b"not a database\n" * 512)
    started = subprocess.run(
        [
            *medama_command(),
            "start",
            "-port",
            str(free_port()),
            "-appdb",
            str(data / "me_meta.db"),
            "-analyticsdb",
            str(data / "me_analytics.db"),
        ],
        capture_output=True,
        text=True,
        timeout=60,  # it used to hang here: the meta store's connection thread was never closed
        check=False,
    )
    assert started.returncode == 1, started.stderr
    errors = [line for line in started.stderr.splitlines() if line.startswith("ERROR")]
    assert errors == ["ERROR: the application could not start; the error is logged above"], started.stderr
    assert "file is not a database" in started.stderr  # the logged error says what is wrong


def test_new_files_are_private_and_missing_directories_are_made(tmp_path: Path) -> None:
    data = tmp_path / "new" / "nested"
    paths = ("-appdb", str(data / "meta" / "m.db"), "-analyticsdb", str(data / "a" / "a.db"))
    with running_server(data, *paths) as server:
        with closing(logged_in_client(server)) as admin:
            assert admin.patch("/api/tenant/settings", json={"script_type": ["default"]}).status_code == 200
        files = [p for p in data.rglob("*") if p.is_file() and not p.name.startswith("server-")]
        assert {p.name for p in files} >= {"m.db", "a.db"}
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        for directory in (data / "meta", data / "a"):
            assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
