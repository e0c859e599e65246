"""CPU priority of the analytics store's threads: below the event loop's, which answers the hits.

On a small host the event loop shares the cores with DuckDB: the store's writer thread (applies, checkpoints), the
report threads and DuckDB's own worker threads, which a report or a checkpoint keeps busy for 100-500 ms at a time.
At equal priority the loop then waited for a CPU while it had hits to answer: in a 3-minute bench/soak.py run with
the latency trace (bench/latency_trace), the loop's wakeups more than 10 ms late spent 25 of their 34 s runnable
but off the CPU (its schedstat), and the probe's slow answers came with them. Linux lets a thread lower its own
priority (a higher nice value) without any privilege, per thread, and a thread starts with the nice value of the
thread that made it. So the store's threads run at BACKGROUND_NICE, DuckDB's workers included (the database is
opened from the writer thread), and take whatever CPU the loop leaves them (docs/architecture.md#process-tuning).
The hit journal's thread keeps the loop's priority: a hit's answer waits for it.
"""

from __future__ import annotations

import os

__all__ = ["BACKGROUND_NICE", "lower_this_thread"]

# CPU weight 335 against the loop's 1,024 (Linux CFS) while both want a CPU.
BACKGROUND_NICE = 5


def lower_this_thread() -> None:
    """Give the calling thread BACKGROUND_NICE, never more priority than it has; nothing where the OS cannot."""
    try:
        if os.getpriority(os.PRIO_PROCESS, 0) < BACKGROUND_NICE:
            # On Linux `PRIO_PROCESS, 0` is the calling thread alone, not its process.
            os.setpriority(os.PRIO_PROCESS, 0, BACKGROUND_NICE)
    except (AttributeError, OSError):
        pass  # not Linux (or not allowed): every thread keeps the process's priority
