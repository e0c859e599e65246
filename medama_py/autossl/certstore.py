"""The `certs/` directory beside the meta database: ACME account key, account URL, certificate and its key.

Everything is written atomically (a temporary file, then a rename) with mode 0600, in a 0700 directory,
so a crash never leaves half a key and no other local user can read one (docs/autossl.md#files).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

if TYPE_CHECKING:
    import datetime as dt

__all__ = ["CertStore", "StoredCertificate", "certs_dir_for", "new_certificate_key", "not_after"]

ACCOUNT_KEY = "account.key"
ACCOUNT_FILE = "account.json"
CERT_FILE = "fullchain.pem"
CERT_KEY_FILE = "privkey.pem"


def certs_dir_for(appdb: str) -> Path:
    """`certs/` next to the meta database file (`-appdb`), as Medama keeps its certificates with its data."""
    return Path(appdb).resolve().parent / "certs"


def new_certificate_key() -> bytes:
    """A fresh P-256 key for a certificate, as PEM (ECDSA: small, fast handshakes, accepted everywhere)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def not_after(fullchain_pem: bytes) -> dt.datetime:
    """The expiry (UTC) of the leaf certificate, the first one in a PEM chain."""
    return x509.load_pem_x509_certificates(fullchain_pem)[0].not_valid_after_utc


@dataclass(frozen=True)
class StoredCertificate:
    domain: str
    fullchain_pem: bytes
    key_pem: bytes
    not_after: dt.datetime
    cert_path: Path
    key_path: Path


class CertStore:
    """Reads and writes the ACME state of one data directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def prepare(self) -> None:
        """Create the directory (0700) if needed and tighten an existing one."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory.chmod(0o700)

    def account_key(self) -> bytes:
        """The ACME account key as PEM, created (RSA 2048, what every CA accepts) on first use."""
        path = self.directory / ACCOUNT_KEY
        if path.exists():
            return path.read_bytes()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self._write(ACCOUNT_KEY, pem)
        return pem

    def account_url(self, directory_url: str) -> str | None:
        """The account registered with this ACME directory, if any (one file per store, keyed by directory)."""
        path = self.directory / ACCOUNT_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        url = data.get(directory_url) if isinstance(data, dict) else None
        return url if isinstance(url, str) else None

    def save_account_url(self, directory_url: str, account_url: str) -> None:
        path = self.directory / ACCOUNT_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        data[directory_url] = account_url
        self._write(ACCOUNT_FILE, json.dumps(data, indent=2).encode())

    def certificate(self, domain: str) -> StoredCertificate | None:
        """The stored certificate when it exists, parses and names `domain`; None otherwise."""
        cert_path, key_path = self.directory / CERT_FILE, self.directory / CERT_KEY_FILE
        try:
            chain, key = cert_path.read_bytes(), key_path.read_bytes()
            leaf = x509.load_pem_x509_certificates(chain)[0]
            private_key = serialization.load_pem_private_key(key, password=None)
        except (OSError, ValueError, TypeError):
            return None
        # A crash between the two renames of save_certificate leaves a new key beside the old certificate:
        # such a pair cannot serve, so it counts as no certificate and a new one is ordered.
        if private_key.public_key() != leaf.public_key():
            return None
        try:
            names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return None
        if domain not in names.get_values_for_type(x509.DNSName):
            return None
        return StoredCertificate(domain, chain, key, leaf.not_valid_after_utc, cert_path, key_path)

    def save_certificate(self, domain: str, fullchain_pem: bytes, key_pem: bytes) -> StoredCertificate:
        """Store a new certificate and its key (a mismatched pair left by a crash is ignored by `certificate`)."""
        self._write(CERT_KEY_FILE, key_pem)
        self._write(CERT_FILE, fullchain_pem)
        stored = self.certificate(domain)
        if stored is None:  # the CA answered with something that is not a certificate for the domain
            raise ValueError(f"the certificate received does not name {domain}")
        return stored

    def _write(self, name: str, data: bytes) -> None:
        target = self.directory / name
        partial = self.directory / f".{name}.partial"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(target)
