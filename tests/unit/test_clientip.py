"""The one client-address decision (medama_py/clientip.py): peer, or the right-most untrusted forwarded hop."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medama_py.clientip import IPAddress, TrustedProxies, client_ip, parse_endpoint, parse_ip
from tests.support.examples import examples

PROXIES = TrustedProxies.parse("10.0.0.0/8, 127.0.0.1, 2001:db8:ffff::/48")
NOBODY = TrustedProxies()


def ip(text: str) -> IPAddress:
    parsed = parse_endpoint(text)
    assert parsed is not None, text
    return parsed


CASES = [
    # (headers, peer, trusted, expected)
    ({"x-forwarded-for": "1.2.3.4"}, "9.9.9.9", NOBODY, "9.9.9.9"),  # no trusted proxy: headers ignored
    ({"x-forwarded-for": "1.2.3.4"}, "9.9.9.9", PROXIES, "9.9.9.9"),  # the peer is not a trusted proxy
    ({"x-forwarded-for": "1.2.3.4"}, "127.0.0.1", NOBODY, "127.0.0.1"),  # loopback is not trusted by default
    ({"x-forwarded-for": "1.2.3.4"}, "127.0.0.1", PROXIES, "1.2.3.4"),
    ({"x-forwarded-for": "6.6.6.6, 1.2.3.4"}, "127.0.0.1", PROXIES, "1.2.3.4"),  # the client wrote 6.6.6.6
    ({"x-forwarded-for": "6.6.6.6, 1.2.3.4, 10.1.1.1"}, "127.0.0.1", PROXIES, "1.2.3.4"),  # two proxies
    ({"x-forwarded-for": "10.9.9.9, 10.1.1.1"}, "127.0.0.1", PROXIES, "10.9.9.9"),  # all inside: left-most
    ({"x-forwarded-for": "6.6.6.6, unknown"}, "127.0.0.1", PROXIES, "127.0.0.1"),  # the proxy knew no better
    ({"x-forwarded-for": "6.6.6.6, unknown, 10.1.1.1"}, "127.0.0.1", PROXIES, "10.1.1.1"),
    ({"x-forwarded-for": ""}, "127.0.0.1", PROXIES, "127.0.0.1"),
    ({"x-forwarded-for": " 1.2.3.4 ,5.6.7.8 "}, "127.0.0.1", PROXIES, "5.6.7.8"),
    ({"x-forwarded-for": "1.2.3.4:5678"}, "127.0.0.1", PROXIES, "1.2.3.4"),
    ({"x-forwarded-for": "[2001:db8::7]:443"}, "127.0.0.1", PROXIES, "2001:db8::7"),
    ({"x-forwarded-for": "2001:db8::7, 2001:db8:ffff::1"}, "127.0.0.1", PROXIES, "2001:db8::7"),
    ({"forwarded": 'for=6.6.6.6, for="[2001:db8::7]:80";proto=https'}, "10.0.0.1", PROXIES, "2001:db8::7"),
    ({"forwarded": "for=192.0.2.60;proto=http;by=203.0.113.43"}, "10.0.0.1", PROXIES, "192.0.2.60"),
    ({"forwarded": "for=_hidden"}, "10.0.0.1", PROXIES, "10.0.0.1"),
    ({"forwarded": "proto=https"}, "10.0.0.1", PROXIES, "10.0.0.1"),
    ({"forwarded": "for=6.6.6.6", "x-forwarded-for": "1.2.3.4"}, "10.0.0.1", PROXIES, "1.2.3.4"),
    ({"x-real-ip": "6.6.6.6", "cf-connecting-ip": "6.6.6.6"}, "10.0.0.1", PROXIES, "10.0.0.1"),
    ({"x-forwarded-for": "1.2.3.4"}, "::ffff:127.0.0.1", PROXIES, "1.2.3.4"),  # dual-stack peer
]


@pytest.mark.parametrize(("headers", "peer", "trusted", "expected"), CASES)
def test_client_ip(headers: dict[str, str], peer: str, trusted: TrustedProxies, expected: str) -> None:
    assert client_ip(headers, ip(peer), trusted) == ip(expected)


def test_no_peer_is_no_address() -> None:
    assert client_ip({"x-forwarded-for": "1.2.3.4"}, None, PROXIES) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.2.3.4", "1.2.3.4"), ("1.2.3.4:80", "1.2.3.4"), ("[::1]:80", "::1"), ("::1", "::1"), ('"1.2.3.4"', "1.2.3.4")],
)
def test_endpoints(text: str, expected: str) -> None:
    assert parse_endpoint(text) == ipaddress.ip_address(expected)


@pytest.mark.parametrize("text", ["", "unknown", "1.2.3.4:x", "::1:80:", "[::1", "fe80::1%eth0", "01.2.3.4", "a:b:c"])
def test_not_endpoints(text: str) -> None:
    assert parse_endpoint(text) is None


@pytest.mark.parametrize("text", ["10.0.0.0/8,nonsense", "300.1.1.1", "10.0.0.0/33"])
def test_bad_trusted_proxy_lists_name_the_entry(text: str) -> None:
    with pytest.raises(ValueError, match="not an address or CIDR"):
        TrustedProxies.parse(text)


# --- the property: the chosen address is the peer or a hop with only trusted proxies to its right --------

TRUSTED_NET = ipaddress.ip_network("10.0.0.0/8")
trusted_ips = st.integers(0, 2**24 - 1).map(lambda n: str(TRUSTED_NET[n]))
outside_ips = st.ip_addresses(v=4).filter(lambda a: a not in TRUSTED_NET).map(str) | st.ip_addresses(v=6).map(str)
# Junk without the separators of either header, so the list the test reasons about is the list sent.
junk = st.sampled_from(["unknown", "", "_hidden", "1.2.3.4 5", "[::1", "999.1.1.1"]) | st.text(
    st.characters(exclude_characters=',;="', exclude_categories=["Cs"]), max_size=12
)
hop = trusted_ips | outside_ips | junk
TRUSTED = TrustedProxies.parse("10.0.0.0/8")


def _allowed(hops: list[str], peer: IPAddress) -> set[IPAddress | None]:
    """The peer, and every hop with only (parseable) trusted proxies between it and the peer."""
    allowed: set[IPAddress | None] = {peer}
    for text in reversed(hops):
        parsed = parse_endpoint(text)
        if parsed is None:
            break
        allowed.add(parsed)
        if not TRUSTED.trusts(parsed):
            break
    return allowed


@settings(max_examples=examples(500))
@given(
    client_written=st.lists(hop, max_size=6),
    proxy_written=st.lists(trusted_ips | outside_ips, max_size=4),
    peer=trusted_ips | outside_ips,
    header=st.sampled_from(["x-forwarded-for", "forwarded"]),
)
def test_the_client_can_never_choose_its_address(
    client_written: list[str], proxy_written: list[str], peer: str, header: str
) -> None:
    hops = [*client_written, *proxy_written]
    if header == "forwarded":
        value = ", ".join(f'for="{h}"' if ":" in h else f"for={h}" for h in hops)
    else:
        value = ", ".join(hops)
    peer_ip = parse_ip(peer)
    assert peer_ip is not None
    chosen = client_ip({header: value}, peer_ip, TRUSTED)
    if not TRUSTED.trusts(peer_ip):
        assert chosen == peer_ip
        return
    assert chosen in _allowed(hops, peer_ip)
    right_most_untrusted = next(
        (i for i in range(len(hops) - 1, -1, -1) if (p := parse_endpoint(hops[i])) and not TRUSTED.trusts(p)), None
    )
    # Nothing left of the right-most untrusted hop (what the client itself wrote) is ever chosen...
    if right_most_untrusted is not None and chosen != peer_ip:
        assert chosen not in {parse_endpoint(h) for h in hops[:right_most_untrusted]} - _allowed(hops, peer_ip)
    # ...and whatever the client writes, an untrusted hop added by a trusted proxy wins.
    untrusted_by_proxy = [h for h in proxy_written if not TRUSTED.trusts(ip(h))]
    if untrusted_by_proxy:
        assert chosen == ip(untrusted_by_proxy[-1])
