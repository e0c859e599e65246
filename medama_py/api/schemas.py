"""Request and response bodies of the admin API, named after the openapi.yaml components."""

from __future__ import annotations

import re
from typing import Annotated, Literal, TypeVar

import msgspec

from medama_py.model import Role

__all__ = [
    "HOSTNAME_PATTERN",
    "ID_PATTERN",
    "AccountCreate",
    "AccountGet",
    "AccountPatch",
    "AuthLogin",
    "Hostname",
    "ShareAccess",
    "ShareLinkCreate",
    "ShareLinkGet",
    "ShareOpen",
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
    "from_record",
]

# Medama's "hostname" format: 1–253 characters of letters, digits, dots and hyphens. Nothing is lower-cased, so
# an upper-case name never matches browser traffic, as in Medama.
HOSTNAME_PATTERN = r"^[A-Za-z0-9.\-]+$"
Hostname = Annotated[str, msgspec.Meta(min_length=1, max_length=253, pattern=HOSTNAME_PATTERN)]
# At most 2,000 addresses: the longest such list (~36 KB) still fits the 64 KB body limit, so no valid body is a 413.
IPList = Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=2000)]
# Medama's password rule (5–128 characters) and its login's username rule (3–48), so every account can log in.
Password = Annotated[str, msgspec.Meta(min_length=5, max_length=128)]
Username = Annotated[str, msgspec.Meta(min_length=3, max_length=48)]
HostnameList = Annotated[list[Hostname], msgspec.Meta(max_length=1000)]
# TypeIDs such as user_01h455vb4pex5vsknk084sn02q or share_01j…
ID_PATTERN = r"^[a-z]{1,16}_[0-9a-z]{26}$"
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
    # Bytes of RAM DuckDB's own allocator (jemalloc) holds: memoryUsed, its other allocations and freed pages not
    # yet handed back. None where DuckDB has no jemalloc (macOS, Windows).
    memoryResident: int | None  # noqa: N815
    refusedHits: int  # noqa: N815  (hits answered 503 since start because the database fell behind)
    recoveries: int  # times since start the file was reopened after DuckDB invalidated it (a fatal error)
    # The hit journal's fdatasyncs since start, those slower than 250 ms, and the slowest (ms): every hit's answer
    # waits for its record's flush, so slow ones are slow answers, and on most hosts the disk's doing.
    journalFlushes: int  # noqa: N815
    slowJournalFlushes: int  # noqa: N815
    slowestJournalFlushMs: int  # noqa: N815
    oldestPageView: str | None = None  # noqa: N815  (RFC 3339: the oldest row kept, docs/data.md#retention)


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


class AccountGet(msgspec.Struct):
    id: str
    username: str
    role: Role
    websites: list[str]
    dateCreated: int  # noqa: N815
    dateUpdated: int  # noqa: N815


class AccountCreate(msgspec.Struct):
    username: Username
    password: Password
    role: Role
    websites: HostnameList = msgspec.field(default_factory=list)


class AccountPatch(msgspec.Struct, omit_defaults=True):
    role: Role | None = None
    password: Password | None = None
    websites: HostnameList | None = None


class ShareLinkGet(msgspec.Struct, omit_defaults=True):
    id: str
    hostname: str
    slug: str
    path: str
    hasPassword: bool  # noqa: N815
    dateCreated: int  # noqa: N815
    dateExpires: int | None = None  # noqa: N815
    dateLastUsed: int | None = None  # noqa: N815


class ShareLinkCreate(msgspec.Struct, omit_defaults=True):
    password: Password | None = None
    # Seconds from now until the link stops working (a minute to ten years); none: never.
    expiresIn: Annotated[float, msgspec.Meta(ge=60, le=10 * 366 * 86400)] | None = None  # noqa: N815


class ShareOpen(msgspec.Struct, omit_defaults=True):
    password: Annotated[str, msgspec.Meta(max_length=128)] | None = None


class ShareAccess(msgspec.Struct):
    token: str
    hostname: str
    dateExpires: int  # noqa: N815


_Body = TypeVar("_Body", bound=msgspec.Struct)
_CAMEL_HUMP = re.compile(r"(?<!^)(?=[A-Z])")


def from_record(body: type[_Body], record: object, **given: object) -> _Body:
    """A response `body` filled from a stored `record`, so the field list is written once, in the Struct.

    Each camelCase field comes from the snake_case attribute of the same name (`dateCreated` from
    `date_created`), unless it is `given`.
    """
    values = {
        name: given[name] if name in given else getattr(record, _CAMEL_HUMP.sub("_", name).lower())
        for name in body.__struct_fields__
    }
    return body(**values)
