"""Shapes shared by the layers: meta database rows, and the analytics rows ingestion hands to storage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple

import msgspec

if TYPE_CHECKING:
    from datetime import datetime

__all__ = [
    "DEFAULT_TENANT_SETTINGS",
    "ROLES",
    "UNKNOWN",
    "Account",
    "EventRows",
    "Role",
    "ShareLink",
    "TenantSettings",
    "UmamiRows",
    "User",
    "ViewRow",
    "Website",
]

# What Medama stores for a browser, OS, device, country or language it could not tell.
UNKNOWN = "Unknown"


class User(msgspec.Struct, frozen=True):
    id: str
    username: str
    password: str
    language: str
    date_created: int
    date_updated: int


# admin: everything; viewer: reads the websites granted to it and changes only its own password (docs/accounts.md).
Role = Literal["admin", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "viewer")


class Account(msgspec.Struct, frozen=True):
    """A user as the admin's user list shows it: role and granted websites, never the password hash."""

    id: str
    username: str
    role: Role
    websites: tuple[str, ...]
    date_created: int
    date_updated: int


class ShareLink(msgspec.Struct, frozen=True):
    """A public read-only link to one website's stats (the slug is its secret part)."""

    id: str
    hostname: str
    slug: str
    has_password: bool
    date_created: int
    date_expires: int | None
    date_last_used: int | None


class Website(msgspec.Struct, frozen=True):
    hostname: str
    user_id: str
    date_created: int
    date_updated: int
    # medama_py's own: the stable id the Umami-compatible API names the website by (docs/umami.md).
    uuid: str = ""


class TenantSettings(msgspec.Struct, frozen=True):
    """Global settings as stored: text values keyed like `tenant_settings.key`, as Medama stores them."""

    script_type: str = "default"
    block_abusive_ips: str = "true"
    block_tor_exit_nodes: str = "true"
    blocked_ips: str = ""
    # medama_py's own: months of analytics kept ("0": forever; docs/data.md#retention). Medama ignores the key.
    retention_months: str = "0"


DEFAULT_TENANT_SETTINGS = TenantSettings()


@dataclass(slots=True)
class ViewRow:
    """One `views` row, in the table's column order (duration_ms stays NULL until an unload)."""

    bid: str
    hostname: str
    pathname: str = ""
    is_unique_user: bool = False
    is_unique_page: bool = False
    referrer_host: str = ""
    referrer_group: str = ""
    country: str = UNKNOWN
    language_base: str = UNKNOWN
    language_dialect: str = UNKNOWN
    ua_browser: str = UNKNOWN
    ua_os: str = UNKNOWN
    ua_device_type: str = UNKNOWN
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    date_created: datetime | None = None


@dataclass(frozen=True, slots=True)
class EventRows:
    """The `events` rows of one request: one shared batch id, one row per property."""

    batch_id: str
    group_name: str
    bid: str
    pairs: tuple[tuple[str, str], ...]
    date_created: datetime

    def rows(self) -> list[tuple[str, str, str, str, datetime, str]]:
        """The rows in the `events` table's column order (batch_id, group_name, name, value, date_created, bid)."""
        shared = (self.batch_id, self.group_name)
        return [(*shared, name, value, self.date_created, self.bid) for name, value in self.pairs]


class UmamiRows(NamedTuple):
    """The Umami-only rows of one hit (storage/umami_tables.py), each a tuple in its table's column order."""

    hit: tuple[object, ...] | None = None
    data: tuple[tuple[object, ...], ...] = ()
    session_data: tuple[tuple[object, ...], ...] = ()
