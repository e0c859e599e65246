"""Shapes shared by the layers: rows of the meta database as typed Structs."""

from __future__ import annotations

import msgspec

__all__ = ["DEFAULT_TENANT_SETTINGS", "TenantSettings", "User", "Website"]


class User(msgspec.Struct, frozen=True):
    id: str
    username: str
    password: str
    language: str
    date_created: int
    date_updated: int


class Website(msgspec.Struct, frozen=True):
    hostname: str
    user_id: str
    date_created: int
    date_updated: int


class TenantSettings(msgspec.Struct, frozen=True):
    """Global settings as stored: text values keyed like `tenant_settings.key` (api.md 2.1)."""

    script_type: str = "default"
    block_abusive_ips: str = "true"
    block_tor_exit_nodes: str = "true"
    blocked_ips: str = ""


DEFAULT_TENANT_SETTINGS = TenantSettings()
