"""LoginThrottle: failed logins per client within a sliding window (docs/compatibility.md#login-throttling)."""

from __future__ import annotations

from medama_py.throttle import LoginThrottle


def test_blocks_after_max_failures_within_the_window() -> None:
    throttle = LoginThrottle(max_failures=3, window=60)
    for second in range(3):
        assert not throttle.is_blocked("1.2.3.4", 100 + second)
        throttle.record_failure("1.2.3.4", 100 + second)
    assert throttle.is_blocked("1.2.3.4", 103)
    assert not throttle.is_blocked("5.6.7.8", 103)


def test_failures_leave_the_window() -> None:
    throttle = LoginThrottle(max_failures=2, window=60)
    throttle.record_failure("k", 0)
    throttle.record_failure("k", 30)
    assert throttle.is_blocked("k", 59)
    # The first failure is exactly one window old: it no longer counts.
    assert not throttle.is_blocked("k", 60)
    assert throttle.is_blocked("k", 60) is False
    throttle.record_failure("k", 61)
    assert throttle.is_blocked("k", 61)
    assert not throttle.is_blocked("k", 200)


def test_retry_after_counts_down_to_the_oldest_failure_leaving() -> None:
    throttle = LoginThrottle(max_failures=2, window=60)
    assert throttle.retry_after("k", 0) == 0
    throttle.record_failure("k", 10)
    throttle.record_failure("k", 20)
    assert throttle.retry_after("k", 20) == 50  # exactly what is left of the window, not a fixed figure
    assert throttle.retry_after("k", 20.5) == 50  # rounded up
    assert throttle.retry_after("k", 69) == 1
    assert throttle.retry_after("k", 70) == 10  # the first left; the second leaves at 80
    assert throttle.retry_after("k", 200) == 0


def test_reset_forgets_a_client() -> None:
    throttle = LoginThrottle(max_failures=1, window=60)
    throttle.record_failure("k", 0)
    assert throttle.is_blocked("k", 1)
    throttle.reset("k")
    assert not throttle.is_blocked("k", 1)
    throttle.reset("never-seen")


def test_memory_is_bounded_by_forgetting_least_recent_clients() -> None:
    throttle = LoginThrottle(max_failures=1, window=600, max_keys=3)
    for key in ("a", "b", "c"):
        throttle.record_failure(key, 0)
    throttle.record_failure("a", 1)  # "a" is now the most recent
    throttle.record_failure("d", 2)  # evicts "b", the least recently failed
    assert throttle.is_blocked("a", 3)
    assert not throttle.is_blocked("b", 3)
    assert throttle.is_blocked("c", 3)
    assert throttle.is_blocked("d", 3)


def test_default_policy_is_ten_failures_in_five_minutes() -> None:
    throttle = LoginThrottle()
    for i in range(9):
        throttle.record_failure("k", i)
    assert not throttle.is_blocked("k", 10)
    throttle.record_failure("k", 10)
    assert throttle.is_blocked("k", 11)
    assert not throttle.is_blocked("k", 301)


def test_reserve_counts_before_checking_so_the_limit_is_exact() -> None:
    throttle = LoginThrottle(max_failures=3, window=60)
    granted = [throttle.reserve("k", 5) for _ in range(5)]  # five attempts arriving together
    assert granted == [True, True, True, False, False]
    assert throttle.retry_after("k", 5) == 60


def test_release_gives_back_an_unchecked_attempt() -> None:
    throttle = LoginThrottle(max_failures=2, window=60)
    assert throttle.reserve("k", 1)
    assert throttle.reserve("k", 2)
    assert not throttle.reserve("k", 3)
    throttle.release("k", 2)
    assert throttle.reserve("k", 3)
    throttle.release("k", 99)  # nothing counted at that time: no change
    throttle.release("other", 1)
    assert not throttle.reserve("k", 4)
    throttle.release("k", 1)
    throttle.release("k", 3)
    assert throttle.retry_after("k", 4) == 0
