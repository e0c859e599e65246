"""The hit journal: an append-only file of acknowledged hit batches, in front of DuckDB.

A hit is answered once its batch is in the journal and fsync'd; the writer applies journal batches to DuckDB
afterwards, on its own thread, and records the position of the last one applied inside the same DuckDB
transaction (`medama_py_journal`). After a crash the batches past that position are applied again, each
exactly once: a batch is either in DuckDB together with its position, or in neither. So a DuckDB checkpoint,
which holds up every commit for up to ~0.6 s, delays when a hit becomes visible, not its answer
(docs/architecture.md#a-hit).

Layout: `<analytics file>.journal/NNNNNNNNNNNN.log` segments, numbered upwards. Each start opens a new segment
(so a torn record is only ever at the end of an old one), and one fills to `segment_bytes` before the next
begins; a segment is deleted once every batch in it is applied. A record is a header (magic, payload length,
CRC-32 of the payload) and the payload. A record that is cut short or fails its CRC ends its segment: it was
being written when the process died, so its fsync never returned and nobody was told it was stored.

A segment is written full of zeros and fsync'd before it is used (`next.zero`, made on a thread of its own while the
one before fills, then renamed), and records overwrite those zeros in place. So a record's fdatasync flushes its
own bytes and never the file's size or extents: on ext4 (data=ordered) a size change has fdatasync commit the
filesystem's journal, and that commit first writes out whatever any file allocated meanwhile, DuckDB's WAL and its
checkpoints included, which held a hit's answer up to ~0.4 s behind DuckDB's writes (docs/architecture.md#a-hit).
The zeros after the last record end the segment quietly.

The payload is the batch's rows pickled; only the journal's own files are ever unpickled, and only with the
row value types allowed (`_RowUnpickler`), so a damaged file cannot name any other class.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import struct
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar

from medama_py.storage.cpu_priority import lower_this_thread

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import duckdb

__all__ = [
    "SLOW_FLUSH_S",
    "FlushStats",
    "InDoubt",
    "Journal",
    "JournalRecord",
    "Position",
    "create_applied",
    "decode_payload",
    "encode_payload",
    "read_applied",
    "record_applied",
]

log = logging.getLogger(__name__)

_MAGIC = b"MHJ1"
_HEADER = struct.Struct("<4sII")  # magic, payload length, CRC-32 of the payload
# Large enough that rotation is rare (~30 s of hits at 5,000 hits/s), small enough that an applied segment
# does not sit on disk for long.
DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024
_SUFFIX = ".log"
# The next segment, being zero-filled (or ready) and not yet named as a segment: never read as records.
_NEXT = "next.zero"
_ZEROS = bytes(256 * 1024)
# Between two chunks of the next segment's zeros (8 MB in 32 chunks: ~0.3 s of the ~30 s a segment lasts at 5,000
# hits/s).
_ZERO_PAUSE_S = 0.01
# A record's fdatasync slower than this held its hits' answers past what a tracker's beacon should wait; counted,
# and shown in Settings -> Usage. On a virtual disk with a write-back cache each fdatasync is a cache flush the host
# serves, and the host sometimes takes seconds (docs/architecture.md#a-hit).
SLOW_FLUSH_S = 0.25
# A flush this slow is also logged as a warning, at most once per _FLUSH_WARNING_EVERY_S.
_FLUSH_WARNING_S = 1.0
_FLUSH_WARNING_EVERY_S = 60.0


@dataclass(frozen=True, order=True, slots=True)
class Position:
    """Where a journal record ends: its segment's number and the byte offset just past it."""

    segment: int
    offset: int


START = Position(0, 0)
_END = Position(2**62, 0)  # past any record


@dataclass(frozen=True, slots=True)
class JournalRecord:
    """One record found on recovery, not yet applied."""

    end: Position
    payload: bytes


class _RowUnpickler(pickle.Unpickler):
    """Unpickles rows of plain values: the only classes a row may hold are these date and time types."""

    _ALLOWED: ClassVar[dict[tuple[str, str], type]] = {
        ("datetime", "datetime"): datetime,
        ("datetime", "timezone"): timezone,
        ("datetime", "timedelta"): timedelta,
        ("datetime", "date"): date,
    }

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"a journal record may not hold {module}.{name}") from None


def encode_payload(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def decode_payload(payload: bytes) -> Any:
    return _RowUnpickler(io.BytesIO(payload)).load()


@dataclass(slots=True)
class FlushStats:
    """The records' fdatasyncs since start: every hit's answer waits for its record's."""

    flushes: int = 0
    slow: int = 0  # those over SLOW_FLUSH_S
    slowest_s: float = 0.0


class Journal:
    """The segment files. Not thread-safe: the writer calls `append` and `release` from one thread only.

    The next segment is zero-filled ahead on a thread of its own (`_prepare_next`), joined when it is needed.
    `clock` (seconds, monotonic) times each record's fdatasync (`flushes`).
    """

    def __init__(
        self,
        directory: Path,
        *,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = directory
        self.flushes = FlushStats()
        self._clock = clock
        self._warned_at: float | None = None
        self._segment_bytes = segment_bytes
        self._fd: int | None = None
        self._segment = 0
        self._size = 0
        self._preparing: threading.Thread | None = None
        self._prepared = False

    def open(self, applied: Position) -> list[JournalRecord]:
        """Return the records past `applied`, oldest first, delete the segments before it, and start a new one."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        (self.directory / _NEXT).unlink(missing_ok=True)  # a crash may have cut its zeros short
        records: list[JournalRecord] = []
        numbers = self._segments()
        for number in numbers:
            if number < applied.segment:
                self._path(number).unlink()
                continue
            records.extend(r for r in self._read_segment(number) if r.end > applied)
        self._start_segment(max([applied.segment, *numbers]) + 1)
        return records

    def append(self, payload: bytes) -> Position:
        """Write one record and fsync it; return where it ends. Raises OSError when the disk refuses."""
        record = _HEADER.pack(_MAGIC, len(payload), zlib.crc32(payload)) + payload
        fd = self._fd
        if fd is None or (self._size and self._size + len(record) > self._segment_bytes):
            fd = self._start_segment(self._segment + 1)
        try:
            # Over the zeros; a record larger than a whole segment grows the file, as an append would.
            written = os.pwrite(fd, record, self._size)
            if written != len(record):
                raise OSError(f"short write to the journal ({written} of {len(record)} bytes)")
            started = self._clock()
            os.fdatasync(fd)
            ended = self._clock()
            self._count_flush(ended - started, ended)
        except OSError:
            # Whatever part of the record reached the file must not sit in front of later records: the next
            # ones go to a fresh segment, and recovery stops reading this one at the damaged record.
            self._close_fd()
            raise
        self._size += len(record)
        return Position(self._segment, self._size)

    def _count_flush(self, seconds: float, now: float) -> None:
        stats = self.flushes
        stats.flushes += 1
        stats.slowest_s = max(stats.slowest_s, seconds)
        if seconds <= SLOW_FLUSH_S:
            return
        stats.slow += 1
        if seconds >= _FLUSH_WARNING_S and (self._warned_at is None or now - self._warned_at >= _FLUSH_WARNING_EVERY_S):
            self._warned_at = now
            log.warning(
                "the disk took %.1f s to flush the hit journal; the hits of that record waited for it"
                " (%d of %d flushes over %.2f s since start)",
                seconds,
                stats.slow,
                stats.flushes,
                SLOW_FLUSH_S,
            )

    def release(self, applied: Position) -> None:
        """Delete the segments whose every record is applied (those before the one `applied` is in)."""
        for number in self._segments():
            if number < applied.segment:
                self._path(number).unlink(missing_ok=True)

    def close(self, applied: Position | None = None) -> None:
        """Close the current segment; with `applied` at its end (a clean stop), delete it and the older ones."""
        self._close_fd()
        self._take_next()
        (self.directory / _NEXT).unlink(missing_ok=True)
        if applied is not None and applied >= Position(self._segment, self._size):
            self.release(Position(self._segment + 1, 0))

    def _segments(self) -> list[int]:
        numbers = []
        for path in self.directory.glob(f"*{_SUFFIX}"):
            stem = path.name.removesuffix(_SUFFIX)
            if stem.isdigit():
                numbers.append(int(stem))
        return sorted(numbers)

    def _path(self, number: int) -> Path:
        return self.directory / f"{number:012d}{_SUFFIX}"

    def _close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _start_segment(self, number: int) -> int:
        self._close_fd()
        path = self._path(number)
        if self._take_next():
            (self.directory / _NEXT).rename(path)
        else:  # the first segment of this start, or the one made ahead failed: zero-filled now
            _write_zeros(path, self._segment_bytes)
        fd = os.open(path, os.O_WRONLY)
        self._fd, self._segment, self._size = fd, number, 0
        # The new file's name must survive a crash too, or the records fsync'd into it would be lost with it.
        _fsync_directory(self.directory)
        self._preparing = threading.Thread(target=self._prepare_next, name="hit-journal-zeros", daemon=True)
        self._preparing.start()
        return fd

    def _prepare_next(self) -> None:
        # Its own thread: 8 MB of zeros and their fsyncs take tens of ms, which the hits of the rotation would wait.
        lower_this_thread()
        self._prepared = False
        try:
            _write_zeros(self.directory / _NEXT, self._segment_bytes, pause=_ZERO_PAUSE_S)
        except OSError as exc:
            log.warning("could not prepare the next journal segment (%s); it is made when needed", exc)
            return
        self._prepared = True

    def _take_next(self) -> bool:
        """Wait for the segment being made ahead; True when it is ready to be renamed into place."""
        if self._preparing is not None:
            self._preparing.join()
            self._preparing = None
        prepared, self._prepared = self._prepared, False
        return prepared

    def _read_segment(self, number: int) -> list[JournalRecord]:
        data = self._path(number).read_bytes()
        records, offset = [], 0
        while offset + _HEADER.size <= len(data):
            magic, length, crc = _HEADER.unpack_from(data, offset)
            start, end = offset + _HEADER.size, offset + _HEADER.size + length
            if magic != _MAGIC or end > len(data) or zlib.crc32(data[start:end]) != crc:
                break
            records.append(JournalRecord(Position(number, end), data[start:end]))
            offset = end
        torn = len(data.rstrip(b"\0")) - offset  # the zeros no record overwrote yet are a clean end
        if torn > 0:
            log.warning(
                "journal segment %s ends with %d bytes of a record that was never acknowledged; ignored",
                self._path(number), torn,
            )  # fmt: skip
        return records


class InDoubt:
    """A mark in the journal directory naming the records whose apply ended in a COMMIT that raised.

    Such a COMMIT may have committed all, none or a part of its transaction, and what it left becomes durable later:
    DuckDB's files right after it still hold the previous journal position, but once the store closed the connection
    (its reopen after "Conflict on update!"), the file held the failed transaction's position without its views.
    A crash before the writer checked those records then lost them at restart, which trusted the position. The mark
    is written (fsync'd) the moment the COMMIT raises, on the writer thread, before anything else can reach DuckDB;
    a start that finds it checks the records it names against the tables (storage/batch_check.py). It is removed
    once they are applied; a removal a crash undid only costs one more check, which finds every row held.

    Thread-safe: the writer thread marks, the apply task clears.
    """

    NAME = "in-doubt"

    def __init__(self, directory: Path) -> None:
        self._path = directory / self.NAME
        self._lock = threading.Lock()

    def mark(self, after: Position, through: Position, *, widen: bool = True) -> None:
        """Name the records past `after` up to `through`, with `widen` together with any the mark names already."""
        with self._lock:
            old = self._read() if widen else None
            if old is not None:
                after, through = min(after, old[0]), max(through, old[1])
            text = f"{after.segment} {after.offset} {through.segment} {through.offset}\n"
            temporary = self._path.with_name(self.NAME + ".new")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, text.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            temporary.replace(self._path)
            _fsync_directory(self._path.parent)

    def read(self) -> tuple[Position, Position] | None:
        """(after, through) of the records in doubt, or None when no COMMIT raised since they were last checked."""
        with self._lock:
            return self._read()

    def clear(self, applied: Position) -> None:
        """Remove the mark once every record it names is applied (`applied` at or past its end)."""
        with self._lock:
            marked = self._read()
            if marked is not None and marked[1] <= applied:
                self._path.unlink(missing_ok=True)

    def _read(self) -> tuple[Position, Position] | None:
        try:
            text = self._path.read_text()
        except FileNotFoundError:
            return None
        fields = text.split()
        if len(fields) != 4 or not all(field.isdigit() for field in fields):
            # Never written torn (a rename replaces it whole): another hand's damage. Every record is doubted.
            log.warning("unreadable %s (%r); every journal record on disk is checked", self._path, text[:100])
            return START, _END
        numbers = [int(field) for field in fields]
        return Position(numbers[0], numbers[1]), Position(numbers[2], numbers[3])


def _write_zeros(path: Path, size: int, *, pause: float = 0.0) -> None:
    """Create `path` (replacing it) holding `size` zero bytes, fsync'd with its size and extents.

    With `pause`, each chunk is flushed on its own and followed by that pause: the hit journal's fdatasync, which
    waits for whatever the disk has queued before it, then never finds more than one chunk ahead of it.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        left = size
        while left > 0:
            left -= os.write(fd, _ZEROS[: min(left, len(_ZEROS))])
            if pause:
                os.fdatasync(fd)
                time.sleep(pause)
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- the applied position, kept in DuckDB -------------------------------------------------------------

_CREATE_POSITION = """
CREATE TABLE IF NOT EXISTS medama_py_journal (segment BIGINT NOT NULL, "offset" BIGINT NOT NULL)"""


def read_applied(cur: duckdb.DuckDBPyConnection) -> Position | None:
    """The end of the last journal record applied to this database; None before its first hit."""
    exists = cur.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'medama_py_journal'").fetchone()
    if not exists or not exists[0]:
        return None
    row = cur.execute('SELECT segment, "offset" FROM medama_py_journal').fetchone()
    return Position(int(row[0]), int(row[1])) if row is not None else START


def create_applied(cur: duckdb.DuckDBPyConnection) -> None:
    """Make the one-row table of the applied position, before the first hit is applied to a file.

    Not at start-up: a Medama file that receives no hits stays byte for byte as it was.
    """
    cur.execute(_CREATE_POSITION)
    cur.execute("INSERT INTO medama_py_journal SELECT 0, 0 WHERE NOT EXISTS (FROM medama_py_journal)")


def record_applied(cur: duckdb.DuckDBPyConnection, position: Position) -> None:
    """Inside the transaction that applies a record: remember it is applied."""
    cur.execute('UPDATE medama_py_journal SET segment = $1, "offset" = $2', [position.segment, position.offset])
