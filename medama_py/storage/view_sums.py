"""SQL sums over `views AS v` that the rollup builds store and the reports compute raw (docs/stats.md#metrics).

A rolled-up number equals the raw one only while both sides sum the same expression, so it is written once
here: storage builds the rollups with it and stats (which may import storage, never the reverse) reads with it.
"""

from __future__ import annotations

from typing import Final

__all__ = ["DAY_BIN_SHIFT", "TIMINGS"]

# Bounce: unique-user rows with a duration in 100..5000 ms over unique-user rows with any duration.
# Both counts come from one sum: a timed row adds 1, a bounced row 2^32 + 1, so the sum is
# bounced * 2^32 + timed. One CASE per row instead of two saves about a third of the flag cost (bench/stats.py:
# ~115 → ~70 ms CPU per 10M rows). Exact while a group has fewer than 2^32 timed rows; the sum is HUGEINT, and
# sums of such sums (hours into days, parts of a period) add up exactly. count_if of a compound condition is
# slower than either form, so it is not used here.
TIMINGS: Final = (
    "sum(CASE WHEN v.is_unique_user AND v.duration_ms IS NOT NULL"
    " THEN CASE WHEN v.duration_ms BETWEEN 100 AND 5000 THEN 4294967297 ELSE 1 END ELSE 0 END)"
)
# The lists' duration bins per day and label (storage/rollup_days.py rollup_day_bins): 8,192 ms wide. A median
# reads the raw durations of its label's middle bin, and finer bins keep more rows per day and label (the year of
# referrers at 10M views: 4.0M rows at 1,024 ms, 2.3M at 8,192 ms, 1.0M at 65,536 ms, whose middle bin then held
# 630k durations to re-read instead of 90k).
DAY_BIN_SHIFT: Final = 13
