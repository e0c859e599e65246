"""-autossl: certificates from an ACME CA (Let's Encrypt by default), HTTP-01 on port 80, renewal (docs/autossl.md)."""

from __future__ import annotations

from medama_py.autossl.acme_order import AcmeSettings, AutoSSLError, ChallengeTokens
from medama_py.autossl.certstore import CertStore, certs_dir_for
from medama_py.autossl.manager import CertificateManager
from medama_py.autossl.redirect import http_redirect_app

__all__ = [
    "AcmeSettings",
    "AutoSSLError",
    "CertStore",
    "CertificateManager",
    "ChallengeTokens",
    "certs_dir_for",
    "http_redirect_app",
]
