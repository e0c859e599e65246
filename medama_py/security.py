"""Passwords (argon2id, PHC strings compatible with Medama's) and opaque session tokens stored hashed."""

from __future__ import annotations

import hashlib
import os
import secrets

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from medama_py.errors import InternalError

__all__ = ["SESSION_TTL_SECONDS", "hash_password", "hash_token", "new_session_token", "verify_password"]

SESSION_TTL_SECONDS = 30 * 24 * 3600  # Medama's fixed 30-day session lifetime

# Medama's parameters (alexedwards/argon2id DefaultParams): 64 MiB, t=1, p = CPU count, 16-byte salt, 32-byte key.
# Verification reads m, t and p from each stored string, so hashes made on other machines verify too.
_HASHER = PasswordHasher(
    time_cost=1, memory_cost=65536, parallelism=min(os.cpu_count() or 1, 255), hash_len=32, salt_len=16
)


async def hash_password(password: str) -> str:
    """Return an argon2id PHC string; hashing takes ~50 ms, so it runs off the event loop."""
    return await anyio.to_thread.run_sync(_HASHER.hash, password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except VerifyMismatchError:
        return False
    except InvalidHashError:
        raise InternalError("stored password hash is malformed") from None
    except VerificationError:
        return False


async def verify_password(stored: str, password: str) -> bool:
    """Check a password against any argon2id PHC string; a malformed stored hash is a 500."""
    return await anyio.to_thread.run_sync(_verify, stored, password)


def new_session_token() -> str:
    """Return a new unguessable cookie value (URL-safe base64, valid in a cookie)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Sessions are stored by SHA-256 of the token: the database never holds a usable cookie."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()
