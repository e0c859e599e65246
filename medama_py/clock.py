"""The one clock: everything that needs `now` gets it from here, so tests can fix time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["fixed_clock", "system_clock", "unix"]


def system_clock() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def fixed_clock(moment: datetime) -> Callable[[], datetime]:
    """Return a clock that always answers `moment` (for tests)."""
    return lambda: moment


def unix(moment: datetime) -> int:
    """Whole Unix seconds, as Medama stores dates in SQLite."""
    return int(moment.timestamp())
