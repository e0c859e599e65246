"""Login throttling per client (docs/compatibility.md#login-throttling): brute-force protection that Medama lacks."""

from __future__ import annotations

import math
from collections import OrderedDict, deque

__all__ = ["LoginThrottle"]


class LoginThrottle:
    """Allow at most `max_failures` failed logins per key within `window` seconds.

    Memory stays bounded: the least recently used keys are forgotten beyond `max_keys`.
    """

    def __init__(self, max_failures: int = 10, window: float = 300.0, max_keys: int = 65536) -> None:
        self.max_failures = max_failures
        self.window = window
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def is_blocked(self, key: str, now: float) -> bool:
        times = self._recent(key, now)
        return times is not None and len(times) >= self.max_failures

    def count(self, key: str, now: float) -> int:
        """Attempts counted against `key` within the window."""
        times = self._recent(key, now)
        return 0 if times is None else len(times)

    def reserve(self, key: str, now: float) -> bool:
        """Count an attempt before its password is checked; False (nothing counted) once the limit is reached.

        Counting first is what makes the limit exact: concurrent attempts cannot all pass a check made
        before any of them was recorded. A successful login then `reset`s the key; an attempt that was
        never checked gives its place back with `release`.
        """
        if self.is_blocked(key, now):
            return False
        self.record_failure(key, now)
        return True

    def release(self, key: str, stamp: float) -> None:
        """Give back an attempt counted by `reserve` at `stamp` whose password was never checked."""
        times = self._failures.get(key)
        if times is None:
            return
        try:
            times.remove(stamp)
        except ValueError:
            return
        if not times:
            del self._failures[key]

    def retry_after(self, key: str, now: float) -> int:
        """Whole seconds until the oldest counted attempt leaves the window (0 when nothing is counted)."""
        times = self._recent(key, now)
        return 0 if not times else max(1, math.ceil(times[0] + self.window - now))

    def record_failure(self, key: str, now: float) -> None:
        times = self._recent(key, now) or deque()
        times.append(now)
        self._failures[key] = times
        self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def reset(self, key: str) -> None:
        self._failures.pop(key, None)
