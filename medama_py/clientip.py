"""Which address a request comes from: the one decision behind IP blocking and login throttling.

Forwarding headers (X-Forwarded-For, RFC 7239 Forwarded) are written by whoever sends the request, so
they are believed only from proxies the operator named with `-trustedproxies`. Each trusted proxy
appends the address it received the request from on the right; walking the list from the right and
skipping trusted proxies, the first other address is the client. Everything further left was written
by that client and is never used. See docs/security.md, "Client addresses".

Addresses decided here are used in memory only (blocking, throttling); they are never stored or logged.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "FORWARDING_HEADERS",
    "IPAddress",
    "TrustedProxies",
    "client_ip",
    "forwarded_hops",
    "joined_header",
    "parse_endpoint",
    "parse_ip",
    "peer_ip",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# The headers `client_ip` reads (ASGI lower-case names); every line of each counts, joined in order.
FORWARDING_HEADERS = frozenset({b"x-forwarded-for", b"forwarded"})
_MAX_HOPS = 32  # a longer chain is read only this far from the right, so a huge header costs little


def parse_ip(text: str) -> IPAddress | None:
    """Parse a bare IPv4 or IPv6 address as Go's net.ParseIP does (no zone, no port), else None."""
    # The length check also keeps hostile header values out of the cache.
    if not text or "%" in text or len(text) > 45:
        return None
    return _parse_ip(text)


@functools.lru_cache(maxsize=4096)
def _parse_ip(text: str) -> IPAddress | None:
    # Cached: the same proxy and client addresses arrive over and over, and ipaddress is slow.
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def parse_endpoint(text: str) -> IPAddress | None:
    """An address that may carry a port or brackets: `1.2.3.4`, `1.2.3.4:80`, `[2001:db8::1]:443`, `2001:db8::1`."""
    text = text.strip().strip('"')
    ip = parse_ip(text)
    if ip is not None:
        return ip
    if text.startswith("["):
        host, bracket, _ = text[1:].partition("]")
        return parse_ip(host) if bracket else None
    host, colon, port = text.rpartition(":")
    # One colon only: more would be an IPv6 address, which must be bracketed to carry a port.
    return parse_ip(host) if colon and ":" not in host and port.isdigit() else None


class TrustedProxies:
    """The networks whose forwarding headers are believed (`-trustedproxies`); empty by default."""

    def __init__(self, networks: Iterable[IPNetwork] = ()) -> None:
        self.networks = tuple(networks)

    @classmethod
    def parse(cls, text: str) -> TrustedProxies:
        """Comma-separated CIDRs or single addresses; raise ValueError naming the first bad entry."""
        networks: list[IPNetwork] = []
        for entry in (part.strip() for part in text.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(f"not an address or CIDR: {entry!r}") from None
        return cls(networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, ip: IPAddress) -> bool:
        if not self.networks:  # the default: asked once per hit
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d
        return any(ip in network for network in self.networks)


def _forwarded_for(value: str) -> list[str]:
    """The `for=` values of an RFC 7239 Forwarded header, left to right (one per forwarded element)."""
    hops: list[str] = []
    for element in value.split(","):
        found = ""  # an element without for= still counts as a hop we cannot read
        for pair in element.split(";"):
            name, equals, text = pair.partition("=")
            if equals and name.strip().lower() == "for":
                found = text.strip()
        hops.append(found)
    return hops


def forwarded_hops(x_forwarded_for: str | None, forwarded: str | None) -> list[str]:
    """The hop list proxies wrote, left (client side) to right (nearest proxy).

    X-Forwarded-For is preferred; RFC 7239 Forwarded is read when there is none. Several header lines of
    one name arrive joined with commas (see `joined_header`), so appended lines keep their order.
    """
    if x_forwarded_for is not None:
        return [part.strip() for part in x_forwarded_for.split(",")]
    if forwarded is not None:
        return _forwarded_for(forwarded)
    return []


def client_ip(headers: Mapping[str, str], peer: IPAddress | None, trusted: TrustedProxies) -> IPAddress | None:
    """The client's address: the TCP peer, or behind trusted proxies the right-most untrusted hop.

    `headers` is keyed by lower-case name, with repeated headers joined by commas. When a trusted proxy
    wrote a hop that is not an address (`unknown`, an obfuscated Forwarded name), the client cannot be
    known beyond that proxy, so the proxy's own address (the hop to its right, or the peer) is used.
    """
    if peer is None or not trusted.trusts(peer):
        return peer
    hops = forwarded_hops(headers.get("x-forwarded-for"), headers.get("forwarded"))
    current = peer
    for text in reversed(hops[-_MAX_HOPS:]):
        hop = parse_endpoint(text)
        if hop is None:
            return current
        current = hop
        if not trusted.trusts(hop):
            return hop
    # Every hop is a trusted proxy (a request from inside the trusted network): the left-most one.
    return current


def joined_header(raw: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    """Every value of header `name` (lower-case) in ASGI raw headers, joined by commas; None when absent."""
    values = [value.decode("latin-1") for key, value in raw if key == name]
    return ",".join(values) if values else None


def peer_ip(peer: str | None) -> IPAddress | None:
    """The TCP peer as an address (`host`, `host:port` or `[v6]:port`), None when there is none."""
    return parse_endpoint(peer) if peer else None
