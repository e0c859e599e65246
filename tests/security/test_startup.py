"""What start-up says and refuses: the default password warning, a second instance, file permissions."""

from __future__ import annotations

from contextlib import closing
from typing import TYPE_CHECKING

import pytest

from tests.support.server import logged_in_client, running_server

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
