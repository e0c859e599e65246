"""The IP filter with its presets; which address a request comes from is tested in test_clientip.py."""

from __future__ import annotations

import pytest

from medama_py.ingest.ip import IPAddress, IPFilter, parse_ip


def ip(text: str) -> IPAddress:
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
