"""Client IP discovery and the IP filter with its presets (docs/compatibility.md#ip-blocking)."""

from __future__ import annotations

import ipaddress

import pytest

from medama_py.ingest.ip import IPFilter, client_ip, parse_ip

CLIENT_IPS = [
    ({"x-forwarded-for": "1.2.3.4, 5.6.7.8"}, "9.9.9.9:1234", "1.2.3.4"),
    ({"x-forwarded-for": "1.2.3.4 , 5.6.7.8", "x-real-ip": "2.2.2.2"}, None, "2.2.2.2"),  # untrimmed: no parse
    ({"x-forwarded-for": "garbage", "cf-connecting-ip": "3.3.3.3"}, None, "3.3.3.3"),
    ({"cf-connecting-ip": "3.3.3.3", "x-real-ip": "2.2.2.2"}, None, "3.3.3.3"),
    ({"x-real-ip": "2.2.2.2", "x-client-ip": "4.4.4.4"}, None, "2.2.2.2"),
    ({"x-client-ip": "4.4.4.4", "fastly-client-ip": "5.5.5.5"}, None, "4.4.4.4"),
    ({"fastly-client-ip": "5.5.5.5"}, "127.0.0.1", "5.5.5.5"),
    ({}, "127.0.0.1", "127.0.0.1"),
    ({}, "10.1.2.3:5555", "10.1.2.3"),
    ({}, "[2001:db8::1]:443", "2001:db8::1"),
    ({}, "2001:db8::1", "2001:db8::1"),
    ({"x-forwarded-for": "::ffff:1.2.3.4"}, None, "::ffff:1.2.3.4"),  # not unmapped
    ({"x-forwarded-for": "fe80::1%eth0"}, "8.8.8.8", "8.8.8.8"),  # zones are not IPs
    ({"x-forwarded-for": "01.2.3.4"}, "8.8.8.8", "8.8.8.8"),  # leading zeros rejected, as Go does
]


@pytest.mark.parametrize(("headers", "peer", "expected"), CLIENT_IPS)
def test_client_ip(headers: dict[str, str], peer: str | None, expected: str) -> None:
    assert client_ip(headers, peer) == ipaddress.ip_address(expected)


@pytest.mark.parametrize("peer", [None, "", "not-an-ip", "host:80"])
def test_no_client_ip(peer: str | None) -> None:
    assert client_ip({"x-forwarded-for": ""}, peer) is None


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    parsed = parse_ip(text)
    assert parsed is not None
    return parsed


@pytest.fixture(scope="module")
def presets() -> IPFilter:
    return IPFilter.from_presets()


def test_everything_is_off_until_settings_apply(presets: IPFilter) -> None:
    fresh = IPFilter.from_presets()
    assert not fresh.is_blocked(ip("1.10.16.1"))  # first FireHOL prefix
    assert not fresh.is_blocked(ip("171.25.193.25"))  # a Tor exit node


def test_abusive_preset(presets: IPFilter) -> None:
    presets.update(block_abusive=True, block_tor=False, blocked_ips=[])
    assert presets.is_blocked(ip("1.10.16.1"))
    assert presets.is_blocked(ip("0.0.0.1"))
    assert not presets.is_blocked(ip("8.8.8.8"))
    assert not presets.is_blocked(ip("2001:db8::1"))


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "172.16.3.4",
        "172.31.255.255",
        "192.168.1.10",
        "169.254.0.1",
        "100.64.0.1",
        "100.127.1.1",
    ],
)
def test_abusive_preset_never_blocks_local_ranges(presets: IPFilter, address: str) -> None:
    presets.update(block_abusive=True, block_tor=True, blocked_ips=[])
    assert not presets.is_blocked(ip(address))


def test_tor_preset(presets: IPFilter) -> None:
    presets.update(block_abusive=False, block_tor=True, blocked_ips=[])
    assert presets.is_blocked(ip("171.25.193.25"))
    assert not presets.is_blocked(ip("171.25.193.26"))


def test_manual_list_blocks_and_clearing_unblocks(presets: IPFilter) -> None:
    presets.update(block_abusive=False, block_tor=False, blocked_ips=["8.8.8.8", " 127.0.0.1 ", "bogus"])
    assert presets.is_blocked(ip("8.8.8.8"))
    assert presets.is_blocked(ip("127.0.0.1"))  # an explicit entry may block anything
    presets.update(block_abusive=False, block_tor=False, blocked_ips=[])
    assert not presets.is_blocked(ip("8.8.8.8"))
    assert not presets.is_blocked(ip("127.0.0.1"))
