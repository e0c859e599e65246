"""-autossl's pieces without a CA: the port-80 app, the certificate files, the renewal schedule and backoff."""

from __future__ import annotations

import datetime as dt
import stat
from typing import TYPE_CHECKING, Any

import pytest

from medama_py.autossl import AcmeSettings, CertificateManager, CertStore, ChallengeTokens, http_redirect_app
from medama_py.autossl.manager import FIRST_BACKOFF, MAX_BACKOFF, RENEW_BEFORE
from tests.support.acme import self_signed
from tests.support.server import free_port

if TYPE_CHECKING:
    from pathlib import Path

DOMAIN = "analytics.example.com"


async def _get(app: Any, path: str, query: bytes = b"") -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": query}
    await app(scope, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"]


async def test_port_80_answers_published_challenges_and_redirects_the_rest() -> None:
    tokens = ChallengeTokens()
    app = http_redirect_app(tokens, DOMAIN, 443)
    tokens.publish("tok-1", "tok-1.thumbprint")
    assert await _get(app, "/.well-known/acme-challenge/tok-1") == (
        200,
        {b"content-type": b"text/plain", b"content-length": b"16", b"cache-control": b"no-store"},
        b"tok-1.thumbprint",
    )
    tokens.withdraw("tok-1")
    assert (await _get(app, "/.well-known/acme-challenge/tok-1"))[0] == 404
    status, headers, _ = await _get(app, "/stats/x%20y", b"period=7d")
    assert (status, headers[b"location"]) == (308, b"https://analytics.example.com/stats/x%20y?period=7d")
    other_port = http_redirect_app(tokens, DOMAIN, 8443)
    assert (await _get(other_port, "/"))[1][b"location"] == b"https://analytics.example.com:8443/"


def test_the_store_keeps_matching_pairs_only_with_private_modes(tmp_path: Path) -> None:
    store = CertStore(tmp_path / "certs")
    store.prepare()
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    assert store.certificate(DOMAIN) is None
    cert, key = self_signed([DOMAIN], 90, tmp_path, "leaf")
    saved = store.save_certificate(DOMAIN, cert.read_bytes(), key.read_bytes())
    assert store.certificate(DOMAIN) == saved
    assert stat.S_IMODE(saved.key_path.stat().st_mode) == 0o600
    assert store.certificate("other.example.com") is None  # a certificate for another name is not used
    _, other_key = self_signed([DOMAIN], 90, tmp_path, "other")
    saved.key_path.write_bytes(other_key.read_bytes())  # as if a crash fell between the two renames
    assert store.certificate(DOMAIN) is None
    with pytest.raises(ValueError, match="does not name"):
        store.save_certificate("other.example.com", cert.read_bytes(), key.read_bytes())


def test_the_account_key_is_made_once_and_account_urls_are_kept_per_directory(tmp_path: Path) -> None:
    store = CertStore(tmp_path / "certs")
    store.prepare()
    key = store.account_key()
    assert store.account_key() == key
    store.save_account_url("https://a.example/dir", "https://a.example/acct/1")
    store.save_account_url("https://b.example/dir", "https://b.example/acct/9")
    assert CertStore(store.directory).account_url("https://a.example/dir") == "https://a.example/acct/1"
    assert store.account_url("https://c.example/dir") is None


def _manager(tmp_path: Path, days_left: float, now: dt.datetime) -> CertificateManager:
    store = CertStore(tmp_path / "certs")
    store.prepare()
    cert, key = self_signed([DOMAIN], days_left, tmp_path, "leaf")
    store.save_certificate(DOMAIN, cert.read_bytes(), key.read_bytes())
    # Nothing listens on this port: every order fails as an unreachable CA does.
    settings = AcmeSettings(DOMAIN, "", f"https://127.0.0.1:{free_port()}/dir")
    return CertificateManager(settings, store, ChallengeTokens(), lambda: now)


def test_a_valid_stored_certificate_is_used_and_renewal_is_due_30_days_before_expiry(tmp_path: Path) -> None:
    real_now = dt.datetime.now(dt.UTC)
    manager = _manager(tmp_path, 60, real_now)
    stored = manager.load_or_order()  # no CA contacted: the stored certificate is valid
    assert manager.ssl_context() is manager.ssl_context()
    assert manager.due_in() == stored.not_after - RENEW_BEFORE - real_now
    assert dt.timedelta(days=29) < manager.due_in() < dt.timedelta(days=31)


async def test_failed_renewals_back_off_doubling_and_keep_the_certificate(tmp_path: Path) -> None:
    manager = _manager(tmp_path, 5, dt.datetime.now(dt.UTC))
    manager.load_or_order()
    context = manager.ssl_context()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 12:
            raise TimeoutError  # enough rounds seen

    with pytest.raises(TimeoutError):
        await manager.renew_forever(sleep)
    expected = [min(FIRST_BACKOFF * 2**i, MAX_BACKOFF).total_seconds() for i in range(12)]
    assert waits == expected
    assert manager.ssl_context() is context
    assert manager.certificate is not None
    assert manager.certificate.not_after < dt.datetime.now(dt.UTC) + dt.timedelta(days=6)


async def test_a_certificate_not_yet_due_is_checked_again_within_half_a_day(tmp_path: Path) -> None:
    manager = _manager(tmp_path, 80, dt.datetime.now(dt.UTC))
    manager.load_or_order()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        raise TimeoutError

    with pytest.raises(TimeoutError):
        await manager.renew_forever(sleep)
    assert waits == [12 * 3600]
