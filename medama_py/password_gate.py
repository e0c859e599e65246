"""Bounded password checking: argon2 takes 64 MiB and ~50 ms a run, so how many run at once is capped.

Without a cap, a burst of wrong logins (no account needed) made the server run one argon2 per request at
the same time: 25 of them took RSS from ~100 MB to 1.25 GB. Here (docs/security.md, "Logins"):
- at most `slots` checks run at once, process-wide, sized from the memory the machine has;
- each client waits in its own line, so a storm from a few addresses cannot push everyone else's
  login to the back of one long queue; the login throttle bounds how long each line can get;
- when a slot frees, the waiting client with the fewest recent attempts goes first: someone logging
  in once overtakes the clients that keep guessing, and clients that keep guessing never hold the
  last slot, so a real login starts at once;
- with `max_clients` clients already in line, a new client is refused at once (ServerBusy, 503);
  a client already in line just waits its turn (the throttle allows it at most 10 attempts);
- an unknown username is checked against a dummy hash made with the same parameters, so both
  answers take the same time and do not reveal which usernames exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import secrets
from typing import TYPE_CHECKING

from medama_py.errors import ServerBusy
from medama_py.security import hash_password, verify_password

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

__all__ = ["PasswordGate", "slots_for_memory"]

ARGON2_MEMORY = 64 * 1024 * 1024


def slots_for_memory(available_bytes: int | None) -> int:
    """Concurrent argon2 runs: 2 with at least 1 GiB available (128 MiB of argon2 at most), else 1.

    Two, not one per core: each run already spreads over one lane per core (Medama's p = CPU count), and
    on a 2-core machine two runs at once still finished more checks per second than one.
    """
    return 2 if available_bytes is not None and available_bytes >= 16 * ARGON2_MEMORY else 1


def available_memory() -> int | None:
    """MemAvailable from /proc/meminfo in bytes (Linux); None elsewhere."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:  # noqa: PTH123  (a tiny read, once)
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


# A client with this many recent attempts is guessing rather than logging in.
GUESSING = 3


class _Slots:
    """A semaphore that wakes the waiter with the lowest priority number first (ties: first come).

    Waiters whose priority (recent attempts) reaches GUESSING may hold all slots but one: the last is kept
    for someone logging in, so a storm of guesses never makes a real login wait for a run to finish.
    """

    def __init__(self, slots: int) -> None:
        self._slots = slots
        self._busy = 0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    def _fits(self, priority: int) -> bool:
        limit = self._slots if priority < GUESSING else max(1, self._slots - 1)
        return self._busy < limit

    async def acquire(self, priority: int) -> None:
        # Straight in when a slot is free for it and nobody better waits (a waiter that could run would be).
        if self._fits(priority) and (not self._waiters or priority < self._waiters[0][0]):
            self._busy += 1
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._arrivals), woken))
        try:
            await woken
        except asyncio.CancelledError:
            if woken.done() and not woken.cancelled():
                self.release()  # handed a slot in the same moment it was cancelled: pass it on
            raise

    def release(self) -> None:
        self._busy -= 1
        self._wake()

    def _wake(self) -> None:
        # The best waiter first; when it may not take the free slot, nobody behind it (all guess more) may.
        while self._waiters:
            priority, _, woken = self._waiters[0]
            if woken.done():  # cancelled while waiting
                heapq.heappop(self._waiters)
                continue
            if not self._fits(priority):
                return
            heapq.heappop(self._waiters)
            self._busy += 1
            woken.set_result(None)


class PasswordGate:
    """Where every password check and hash of the process waits its turn."""

    def __init__(self, slots: int | None = None, max_clients: int = 64) -> None:
        self.slots = slots if slots is not None else slots_for_memory(available_memory())
        self.max_clients = max_clients
        self._running = _Slots(self.slots)
        self._lines: dict[str, tuple[asyncio.Lock, int]] = {}  # per client: its lock, how many hold or wait
        self._dummy_hash: str | None = None

    @contextlib.asynccontextmanager
    async def _turn(self, client: str, priority: Callable[[], int]) -> AsyncIterator[None]:
        if client not in self._lines and len(self._lines) >= self.max_clients:
            raise ServerBusy
        lock, users = self._lines.get(client, (asyncio.Lock(), 0))
        self._lines[client] = (lock, users + 1)
        try:
            async with lock:  # one check per client at a time
                # Read once at the head of its line: attempts that piled up meanwhile count too.
                await self._running.acquire(priority())
                try:
                    yield
                finally:
                    self._running.release()
        finally:
            lock, users = self._lines[client]
            if users == 1:
                del self._lines[client]
            else:
                self._lines[client] = (lock, users - 1)

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await hash_password(secrets.token_urlsafe(16))
        return self._dummy_hash

    async def verify(
        self, client: str, stored: str | None, password: str, *, recent_attempts: Callable[[], int] = lambda: 0
    ) -> bool:
        """Check `password` against `stored` (None: unknown user, checked against the dummy and refused).

        `recent_attempts` (the client's count in the login throttle) orders the waiting clients.
        """
        async with self._turn(client, recent_attempts):
            # Made inside the turn on first use, so even the very first check costs what every later one does.
            dummy = await self._dummy()
            valid = await verify_password(stored if stored is not None else dummy, password)
            return valid and stored is not None

    async def hash(self, client: str, password: str) -> str:
        """Hash a new password, in the same bounded line as the checks."""
        async with self._turn(client, lambda: 0):
            return await hash_password(password)
