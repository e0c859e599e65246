"""The one login check behind every door (cookie login, Umami login): throttle first, then a bounded argon2.

Order matters (docs/security.md, "Logins"): the attempt is counted against the client before its password
is checked, so concurrent attempts cannot slip past the limit; an attempt the server was too busy to check
is given back; a success clears the client's count.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from medama_py.errors import ServerBusy, TooManyRequests, UserNotFound

if TYPE_CHECKING:
    from medama_py.model import User
    from medama_py.services import Services

__all__ = ["check_credentials"]


async def check_credentials(services: Services, client: str, username: str, password: str) -> User | None:
    """The user when the password is right, None when not; raises TooManyRequests (429) or ServerBusy (503)."""
    throttle = services.login_throttle
    now = services.clock().timestamp()
    if not throttle.reserve(client, now):
        raise TooManyRequests(retry_after=throttle.retry_after(client, now))
    try:
        user: User | None = await services.meta.get_user_by_username(username)
    except UserNotFound:
        user = None
    try:
        stored = user.password if user else None
        attempts = functools.partial(throttle.count, client, now)
        valid = await services.passwords.verify(client, stored, password, recent_attempts=attempts)
    except ServerBusy:
        throttle.release(client, now)
        raise
    if not valid or user is None:
        return None
    throttle.reset(client)
    return user
