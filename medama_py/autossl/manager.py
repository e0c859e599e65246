"""Keeps a valid certificate in place: the stored one or a new order at start-up, renewal in the background.

The TLS context handed to the server never changes; its SNI callback switches every new handshake to the
context of the newest certificate, so a renewal takes effect without a restart (docs/autossl.md#obtaining-and-renewing).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import ssl
from typing import TYPE_CHECKING

from medama_py.autossl.acme_order import AutoSSLError, order_certificate

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from medama_py.autossl.acme_order import AcmeSettings, ChallengeTokens
    from medama_py.autossl.certstore import CertStore, StoredCertificate

__all__ = ["RENEW_BEFORE", "CertificateManager", "tls_context"]

log = logging.getLogger("medama_py")

RENEW_BEFORE = dt.timedelta(days=30)  # Let's Encrypt's advice for 90-day certificates
CHECK_EVERY = dt.timedelta(hours=12)  # a clock jump or a manual file change is noticed within half a day
FIRST_BACKOFF = dt.timedelta(minutes=1)
MAX_BACKOFF = dt.timedelta(hours=6)  # stays well inside Let's Encrypt's failed-validation limit


def tls_context(certificate: StoredCertificate) -> ssl.SSLContext:
    """A server context for the certificate: TLS 1.2 or newer, forward-secret AEAD ciphers only."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")  # TLS 1.2; TLS 1.3's suites are all modern
    context.set_alpn_protocols(["http/1.1"])
    context.load_cert_chain(certificate.cert_path, certificate.key_path)
    return context


class CertificateManager:
    """The certificate of one domain: obtained at start-up, renewed 30 days before it expires."""

    def __init__(
        self,
        settings: AcmeSettings,
        store: CertStore,
        tokens: ChallengeTokens,
        now: Callable[[], dt.datetime],
    ) -> None:
        self.settings = settings
        self.store = store
        self.tokens = tokens
        self.now = now
        self.certificate: StoredCertificate | None = None
        self._front: ssl.SSLContext | None = None
        self._newest: ssl.SSLContext | None = None

    def load_or_order(self) -> StoredCertificate:
        """Use the stored certificate while it is valid, else order one (blocking; run it in a thread).

        Raises:
            AutoSSLError: no valid certificate is stored and none could be obtained.
        """
        self.store.prepare()
        stored = self.store.certificate(self.settings.domain)
        if stored is not None and stored.not_after > self.now():
            log.info("using the stored TLS certificate", extra=_describe(stored))
        else:
            stored = order_certificate(self.settings, self.store, self.tokens)
            log.info("obtained a TLS certificate", extra=_describe(stored))
        self._install(stored)
        return stored

    def ssl_context(self) -> ssl.SSLContext:
        """The one context the HTTPS server keeps; each handshake is moved to the newest certificate's."""
        if self._front is None:
            raise AutoSSLError("no certificate yet: load_or_order() must succeed first")
        return self._front

    def due_in(self) -> dt.timedelta:
        """How long until the certificate should be renewed (zero or less: now)."""
        if self.certificate is None:
            return dt.timedelta(0)
        return self.certificate.not_after - RENEW_BEFORE - self.now()

    async def renew_forever(self, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        """Renew whenever due; a failure is logged and retried with doubling waits, never stopping the server."""
        backoff = FIRST_BACKOFF
        while True:
            wait = self.due_in()
            if wait > dt.timedelta(0):
                await sleep(min(wait, CHECK_EVERY).total_seconds())
                continue
            try:
                renewed = await asyncio.to_thread(order_certificate, self.settings, self.store, self.tokens)
            except AutoSSLError as exc:
                log.warning(
                    "TLS certificate renewal failed; the current certificate stays in use",
                    extra={"error": str(exc), "retry_in_s": int(backoff.total_seconds()), **self._current()},
                )
                await sleep(backoff.total_seconds())
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            self._install(renewed)
            log.info("renewed the TLS certificate", extra=_describe(renewed))
            backoff = FIRST_BACKOFF

    def _install(self, certificate: StoredCertificate) -> None:
        context = tls_context(certificate)
        self.certificate, self._newest = certificate, context
        if self._front is None:
            self._front = context
            context.sni_callback = self._choose_context

    def _choose_context(self, connection: ssl.SSLObject, _server_name: str | None, _context: ssl.SSLContext) -> None:
        if self._newest is not None and connection.context is not self._newest:
            connection.context = self._newest

    def _current(self) -> dict[str, str]:
        return _describe(self.certificate) if self.certificate is not None else {}


def _describe(certificate: StoredCertificate) -> dict[str, str]:
    return {"domain": certificate.domain, "expires": certificate.not_after.isoformat()}
