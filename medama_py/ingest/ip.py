"""The IP filter behind the tenant settings (which address a request comes from: medama_py/clientip.py).

The filter applies the stored settings at startup and after every PATCH (clearing
the manual list unblocks at once), and the abusive preset never blocks loopback, private,
link-local or CGNAT addresses, so local use and reverse proxies keep working.
"""

from __future__ import annotations

import bisect
import ipaddress
from typing import TYPE_CHECKING

from medama_py.clientip import IPAddress, parse_ip
from medama_py.ingest.datafiles import read_data_text

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["IPAddress", "IPFilter", "parse_ip"]

# Ranges the abusive preset must never cover (FireHOL level 1 lists them as bogons).
_NEVER_ABUSIVE = tuple(
    ipaddress.IPv4Network(n)
    for n in ("10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16")
)


def _subtract(start: int, end: int, holes: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Return the parts of [start, end] outside every hole (inclusive integer ranges)."""
    parts = [(start, end)]
    for h_start, h_end in holes:
        next_parts: list[tuple[int, int]] = []
        for p_start, p_end in parts:
            if h_end < p_start or h_start > p_end:
                next_parts.append((p_start, p_end))
                continue
            if p_start < h_start:
                next_parts.append((p_start, h_start - 1))
            if p_end > h_end:
                next_parts.append((h_end + 1, p_end))
        parts = next_parts
    return parts


def _load_ranges(text: str) -> tuple[list[int], list[int]]:
    """Turn a CIDR list into sorted, merged (starts, ends) with the protected ranges cut out."""
    holes = [(int(n.network_address), int(n.broadcast_address)) for n in _NEVER_ABUSIVE]
    ranges: list[tuple[int, int]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        net = ipaddress.IPv4Network(line, strict=False)
        ranges.extend(_subtract(int(net.network_address), int(net.broadcast_address), holes))
    ranges.sort()
    starts: list[int] = []
    ends: list[int] = []
    for start, end in ranges:
        if ends and start <= ends[-1] + 1:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


class IPFilter:
    """Decides whether a hit's client address is blocked by the manual list or a preset."""

    def __init__(self, abusive_ranges: tuple[list[int], list[int]], tor_exit_nodes: frozenset[IPAddress]) -> None:
        self._abusive_starts, self._abusive_ends = abusive_ranges
        self._tor = tor_exit_nodes
        self._block_abusive = False
        self._block_tor = False
        self._manual: frozenset[IPAddress] = frozenset()

    @classmethod
    def from_presets(cls) -> IPFilter:
        """Load the vendored FireHOL level 1 and Tor exit node presets; all blocking starts off."""
        abusive = _load_ranges(read_data_text("ip-abusive.txt"))
        tor = frozenset(
            ip
            for line in read_data_text("ip-tor-exit-nodes.txt").splitlines()
            if (ip := parse_ip(line.strip())) is not None
        )
        return cls(abusive, tor)

    def update(self, *, block_abusive: bool, block_tor: bool, blocked_ips: list[str]) -> None:
        """Apply the tenant settings; the manual list is replaced, so `[]` unblocks everything in it."""
        manual = frozenset(ip for text in blocked_ips if (ip := parse_ip(text.strip())) is not None)
        # Assign whole objects so a concurrent reader never sees half an update.
        self._manual = manual
        self._block_abusive = block_abusive
        self._block_tor = block_tor

    def is_blocked(self, ip: IPAddress) -> bool:
        """Return whether hits from this address are dropped."""
        # Hashing an ipaddress object is not free (it formats the number): an empty list is not asked.
        if self._manual and ip in self._manual:
            return True
        if self._block_abusive and ip.version == 4 and self._in_abusive(int(ip)):
            return True
        return self._block_tor and ip in self._tor

    def _in_abusive(self, value: int) -> bool:
        i = bisect.bisect_right(self._abusive_starts, value) - 1
        return i >= 0 and value <= self._abusive_ends[i]
