"""Request and response bodies of the admin API, named after the openapi.yaml components."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = [
    "HOSTNAME_PATTERN",
    "AuthLogin",
    "Hostname",
    "TenantSettingsGet",
    "TenantSettingsPatch",
    "UserGet",
    "UserPatch",
    "UserSettings",
    "UserUsageGet",
    "WebsiteCreate",
    "WebsiteGet",
    "WebsitePatch",
    "WebsiteSummary",
]

# Medama's "hostname" format: 1–253 characters of letters, digits, dots and hyphens. Nothing is lower-cased, so
# an upper-case name never matches browser traffic, as in Medama.
HOSTNAME_PATTERN = r"^[A-Za-z0-9.\-]+$"
Hostname = Annotated[str, msgspec.Meta(min_length=1, max_length=253, pattern=HOSTNAME_PATTERN)]
# At most 2,000 addresses: the longest such list (~36 KB) still fits the 64 KB body limit, so no valid body is a 413.
IPList = Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=2000)]
ScriptType = Literal["default", "click-events", "page-events"]


class AuthLogin(msgspec.Struct, forbid_unknown_fields=False):
    username: Annotated[str, msgspec.Meta(min_length=3, max_length=48)]
    password: Annotated[str, msgspec.Meta(min_length=5, max_length=128)]


class UserSettings(msgspec.Struct):
    language: Literal["en"] = "en"


class UserGet(msgspec.Struct):
    username: str
    settings: UserSettings
    dateCreated: int  # noqa: N815  (JSON field names are the contract)
    dateUpdated: int  # noqa: N815


class UserPatch(msgspec.Struct, omit_defaults=True):
    username: Annotated[str, msgspec.Meta(min_length=3, max_length=120)] | None = None
    password: Annotated[str, msgspec.Meta(min_length=5, max_length=128)] | None = None
    settings: UserSettings | None = None


class UsageCPU(msgspec.Struct):
    usage: float
    cores: int
    threads: int


class UsageAmount(msgspec.Struct):
    used: int
    total: int


class UsageProcess(msgspec.Struct):
    """This server process (medama_py's additions to Medama's usage)."""

    rss: int  # resident memory in bytes


class UsageAnalytics(msgspec.Struct):
    """The analytics database (medama_py's additions to Medama's usage)."""

    wal: int  # bytes of write-ahead log not yet folded into the file
    memoryUsed: int  # noqa: N815  (bytes DuckDB holds now: buffers, rows not yet checkpointed, queries)
    memoryLimit: int  # noqa: N815  (bytes DuckDB may use: -memorylimit or its default)
    refusedHits: int  # noqa: N815  (hits answered 503 since start because the database fell behind)


class UserUsageGet(msgspec.Struct):
    cpu: UsageCPU
    memory: UsageAmount
    disk: UsageAmount
    process: UsageProcess
    analytics: UsageAnalytics


class TenantSettingsGet(msgspec.Struct):
    script_type: list[str]
    blockAbusiveIPs: bool  # noqa: N815
    blockTorExitNodes: bool  # noqa: N815
    blockedIPs: list[str]  # noqa: N815


class TenantSettingsPatch(msgspec.Struct, omit_defaults=True):
    script_type: Annotated[list[ScriptType], msgspec.Meta(min_length=1, max_length=3)] | None = None
    blockAbusiveIPs: bool | None = None  # noqa: N815
    blockTorExitNodes: bool | None = None  # noqa: N815
    blockedIPs: IPList | None = None  # noqa: N815


class WebsiteSummary(msgspec.Struct):
    visitors: int


class WebsiteGet(msgspec.Struct, omit_defaults=True):
    hostname: str
    summary: WebsiteSummary | None = None


class WebsiteCreate(msgspec.Struct):
    hostname: Hostname


class WebsitePatch(msgspec.Struct, omit_defaults=True):
    hostname: Hostname | None = None
