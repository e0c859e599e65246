"""The database files before they are opened: private permissions, a missing directory, a busy file.

DuckDB lets one process at a time open an analytics file and says who holds it only deep inside a
traceback; `busy_analytics_file` finds the holder first, so start-up can say it in one line
(docs/security.md, "Data files").
"""

from __future__ import annotations

import fcntl
import os
import struct
from pathlib import Path

__all__ = ["PRIVATE_UMASK", "busy_analytics_file", "make_data_directories"]

# Files the server creates (databases, their WAL and journal files) are readable by their owner only.
PRIVATE_UMASK = 0o077

# struct flock on Linux: l_type, l_whence (shorts), l_start, l_len (off_t), l_pid (pid_t), native alignment.
_FLOCK = "hhqqi"
_FLOCK_SIZE = 32


def make_data_directories(*paths: str) -> None:
    """Create the missing directories that will hold these files, readable by their owner only (0700)."""
    for path in paths:
        if path == ":memory:":
            continue
        Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)


def _lock_holder(fd: int) -> int | None:
    probe = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0).ljust(_FLOCK_SIZE, b"\0")
    answer = fcntl.fcntl(fd, fcntl.F_GETLK, probe)
    lock_type, _, _, _, pid = struct.unpack(_FLOCK, answer[: struct.calcsize(_FLOCK)])
    return None if lock_type == fcntl.F_UNLCK else pid


def busy_analytics_file(path: str) -> str | None:
    """One line naming the file, its lock and the process holding it, or None when the file is free."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None  # missing (it will be created) or unreadable (opening it will say so)
    try:
        holder = _lock_holder(fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    if holder is None:
        return None
    return (
        f"the analytics database {path} is in use: its DuckDB write lock is held by process {holder}"
        " (another medama on the same file?); stop that process or point -analyticsdb at another file"
    )
