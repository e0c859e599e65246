"""One certificate order over ACME (RFC 8555) with HTTP-01 challenges, through certbot's `acme` library.

Blocking network I/O: callers run `order_certificate` in a worker thread. Every failure a user can act on
becomes an `AutoSSLError` with one line saying what went wrong and what to check (docs/autossl.md#errors).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import certifi
import requests
from acme import challenges, client, crypto_util, messages
from acme import errors as acme_errors
from cryptography.hazmat.primitives import serialization
from josepy.jwk import JWK, JWKRSA

from medama_py.autossl.certstore import new_certificate_key
from medama_py.config import LETS_ENCRYPT

if TYPE_CHECKING:
    from medama_py.autossl.certstore import CertStore, StoredCertificate

__all__ = ["AcmeSettings", "AutoSSLError", "ChallengeTokens", "order_certificate"]

log = logging.getLogger("medama_py")

ORDER_TIMEOUT = dt.timedelta(seconds=90)  # validation plus issuance; Let's Encrypt usually takes a few seconds
USER_AGENT = "medama_py-autossl"


class AutoSSLError(Exception):
    """A certificate could not be obtained; the message is one line a user can act on."""


@dataclass(frozen=True)
class AcmeSettings:
    domain: str
    email: str
    directory_url: str = LETS_ENCRYPT
    extra_root: Path | None = None  # -acmeca: a private or test CA's root, trusted besides the public ones


class ChallengeTokens:
    """HTTP-01 answers published while an order is validated; the port-80 responder reads them."""

    def __init__(self) -> None:
        self._answers: dict[str, str] = {}
        self._lock = threading.Lock()

    def publish(self, token: str, key_authorization: str) -> None:
        with self._lock:
            self._answers[token] = key_authorization

    def withdraw(self, token: str) -> None:
        with self._lock:
            self._answers.pop(token, None)

    def answer(self, token: str) -> str | None:
        with self._lock:
            return self._answers.get(token)


class _Network(client.ClientNetwork):
    """requests accepts a CA bundle path for `verify`; acme's signature only says bool."""

    def __init__(self, key: JWK, verify: str | bool) -> None:
        super().__init__(key, user_agent=USER_AGENT)
        self.verify_ssl = verify  # type: ignore[assignment]


def order_certificate(settings: AcmeSettings, store: CertStore, tokens: ChallengeTokens) -> StoredCertificate:
    """Register (or reuse) the account, order a certificate for the domain, store and return it.

    Raises:
        AutoSSLError: the CA could not be reached, refused the account or the order, or validation failed.
    """
    try:
        return _order(settings, store, tokens)
    except AutoSSLError:
        raise
    except messages.Error as exc:
        raise AutoSSLError(_describe_acme_error(exc, settings)) from exc
    except acme_errors.ValidationError as exc:
        raise AutoSSLError(_describe_validation(exc, settings)) from exc
    except acme_errors.TimeoutError as exc:
        raise AutoSSLError(f"the certificate authority did not finish the order for {settings.domain} in time") from exc
    except requests.exceptions.SSLError as exc:
        raise AutoSSLError(
            f"could not verify the TLS certificate of the ACME server {settings.directory_url}"
            " (for a private or test CA, pass its root with -acmeca)"
        ) from exc
    except requests.exceptions.RequestException as exc:
        raise AutoSSLError(f"could not reach the ACME server {settings.directory_url}: {_first_line(exc)}") from exc
    except (acme_errors.Error, ValueError) as exc:
        raise AutoSSLError(f"the certificate order for {settings.domain} failed: {_first_line(exc)}") from exc


def _order(settings: AcmeSettings, store: CertStore, tokens: ChallengeTokens) -> StoredCertificate:
    key = JWKRSA(key=serialization.load_pem_private_key(store.account_key(), password=None))
    net = _Network(key, _trust(settings, store))
    acme = client.ClientV2(client.ClientV2.get_directory(settings.directory_url, net), net=net)
    _use_account(acme, settings, store)
    cert_key = new_certificate_key()
    try:
        order = acme.new_order(crypto_util.make_csr(cert_key, [settings.domain]))
    except messages.Error as exc:
        if exc.code != "accountDoesNotExist":
            raise
        # The CA forgot the stored account (a test CA restarted, an account deactivated): register again, once.
        _register(acme, settings, store)
        order = acme.new_order(crypto_util.make_csr(cert_key, [settings.domain]))
    log.info("ordering a TLS certificate", extra={"domain": settings.domain, "ca": settings.directory_url})
    published = _answer_challenges(acme, order, tokens)
    try:
        deadline = dt.datetime.now() + ORDER_TIMEOUT  # noqa: DTZ005  (acme compares with its own naive now())
        finished = acme.poll_and_finalize(order, deadline)
    finally:
        for token in published:
            tokens.withdraw(token)
    return store.save_certificate(settings.domain, finished.fullchain_pem.encode(), cert_key)


def _answer_challenges(acme: client.ClientV2, order: messages.OrderResource, tokens: ChallengeTokens) -> list[str]:
    published: list[str] = []
    for authz in order.authorizations:
        if authz.body.status == messages.STATUS_VALID:
            continue  # validated recently for this account: nothing to prove again
        chall = next((c for c in authz.body.challenges if isinstance(c.chall, challenges.HTTP01)), None)
        if chall is None:
            raise AutoSSLError("the certificate authority offers no HTTP-01 challenge, the only kind medama answers")
        response, key_authorization = chall.response_and_validation(acme.net.key)
        token = chall.chall.encode("token")
        tokens.publish(token, key_authorization)
        published.append(token)
        acme.answer_challenge(chall, response)
    return published


def _use_account(acme: client.ClientV2, settings: AcmeSettings, store: CertStore) -> None:
    url = store.account_url(settings.directory_url)
    if url is None:
        _register(acme, settings, store)
    else:
        acme.net.account = messages.RegistrationResource(uri=url, body=messages.Registration())


def _register(acme: client.ClientV2, settings: AcmeSettings, store: CertStore) -> None:
    registration = messages.NewRegistration.from_data(email=settings.email or None, terms_of_service_agreed=True)
    try:
        account = acme.new_account(registration)
    except acme_errors.ConflictError as exc:  # this key already has an account: use it
        account = acme.query_registration(messages.RegistrationResource(uri=exc.location, body=messages.Registration()))
    store.save_account_url(settings.directory_url, account.uri)


def _trust(settings: AcmeSettings, store: CertStore) -> str | bool:
    """The public roots, plus -acmeca's root in a combined bundle when given."""
    if settings.extra_root is None:
        return True
    try:
        extra = settings.extra_root.read_bytes()
    except OSError as exc:
        raise AutoSSLError(f"cannot read -acmeca {settings.extra_root}: {exc.strerror}") from exc
    bundle = store.directory / "acme-roots.pem"
    bundle.write_bytes(extra + b"\n" + Path(certifi.where()).read_bytes())
    return str(bundle)


def _describe_acme_error(exc: messages.Error, settings: AcmeSettings) -> str:
    detail = _first_line(exc.detail or exc.description or exc.typ)
    if exc.code == "rateLimited":
        return f"the certificate authority's rate limit was reached for {settings.domain}: {detail}; try again later"
    if exc.code in ("invalidContact", "unsupportedContact"):
        return f"the certificate authority refused the email {settings.email!r} (-autosslemail): {detail}"
    if exc.code in ("rejectedIdentifier", "unsupportedIdentifier", "malformed") and settings.domain in detail:
        return f"the certificate authority will not issue for {settings.domain} (-autossl): {detail}"
    return f"the certificate authority refused the order for {settings.domain}: {detail}"


def _describe_validation(exc: acme_errors.ValidationError, settings: AcmeSettings) -> str:
    problems = [c.error for a in exc.failed_authzrs for c in a.body.challenges if c.error is not None]
    detail = _first_line(problems[0].detail or problems[0].typ) if problems else "no details given"
    code = problems[0].code if problems else None
    if code == "dns":
        return f"the domain {settings.domain} does not resolve (check its DNS A/AAAA records): {detail}"
    if code in ("connection", "unauthorized", "incorrectResponse"):
        return (
            f"the certificate authority could not fetch http://{settings.domain}/.well-known/acme-challenge/ from"
            f" this server (does the domain point here, and is port 80 reachable?): {detail}"
        )
    return f"the certificate authority could not validate {settings.domain}: {detail}"


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__
