"""GET/PATCH /tenant/settings; changes apply to the running server at once (docs/compatibility.md#tenant-settings)."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from litestar import get, patch
from litestar.params import JSONBody

from medama_py.api.access import require_admin
from medama_py.api.deps import COOKIE_SECURITY, SERVICES, ServicesDep, forbid_demo, require_json_body, require_session
from medama_py.api.schemas import TenantSettingsGet, TenantSettingsPatch
from medama_py.clock import unix
from medama_py.errors import BadRequest, InternalError

if TYPE_CHECKING:
    from medama_py.model import TenantSettings

__all__ = ["route_handlers"]


def _settings_get(stored: TenantSettings) -> TenantSettingsGet:
    def flag(name: str, value: str) -> bool:
        if value not in ("true", "false"):
            raise InternalError(f"stored setting {name} is not a boolean: {value!r}")
        return value == "true"

    blocked: list[str] = []
    for entry in stored.blocked_ips.split(","):
        if entry.strip():
            try:
                blocked.append(str(ipaddress.ip_address(entry.strip())))
            except ValueError:
                raise InternalError(f"stored blocked IP is malformed: {entry!r}") from None
    return TenantSettingsGet(
        script_type=[part for part in stored.script_type.split(",") if part],
        blockAbusiveIPs=flag("block_abusive_ips", stored.block_abusive_ips),
        blockTorExitNodes=flag("block_tor_exit_nodes", stored.block_tor_exit_nodes),
        blockedIPs=blocked,
    )


def _canonical_ipv4_list(values: list[str]) -> str:
    canonical: list[str] = []
    for value in values:
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            raise BadRequest(f"bad ip format: {value!r}") from None
        if ip.version != 4:
            raise BadRequest(f"wrong ip version: {value!r}")
        if str(ip) in canonical:
            raise BadRequest(f"blockedIPs: duplicate entry {value!r}")
        canonical.append(str(ip))
    return ",".join(canonical)


def _stored_values(data: TenantSettingsPatch) -> dict[str, str]:
    values: dict[str, str] = {}
    if data.script_type is not None:
        if len(set(data.script_type)) != len(data.script_type):
            raise BadRequest("script_type: duplicate entries")
        values["script_type"] = ",".join(data.script_type)
    if data.blockAbusiveIPs is not None:
        values["block_abusive_ips"] = "true" if data.blockAbusiveIPs else "false"
    if data.blockTorExitNodes is not None:
        values["block_tor_exit_nodes"] = "true" if data.blockTorExitNodes else "false"
    if data.blockedIPs is not None:
        values["blocked_ips"] = _canonical_ipv4_list(data.blockedIPs)
    return values


@get(
    "/api/tenant/settings",
    operation_id="get-tenant-settings",
    tags=["Settings"],
    guards=[require_session, require_admin],
    security=COOKIE_SECURITY,
    dependencies=SERVICES,
)
async def get_tenant_settings(services: ServicesDep) -> TenantSettingsGet:
    """The global tracker and spam settings."""
    return _settings_get(await services.meta.get_settings())


@patch(
    "/api/tenant/settings",
    operation_id="patch-tenant-settings",
    tags=["Settings"],
    guards=[require_session, require_admin, require_json_body],
    security=COOKIE_SECURITY,
    dependencies=SERVICES,
    status_code=200,
)
async def patch_tenant_settings(data: JSONBody[TenantSettingsPatch], services: ServicesDep) -> TenantSettingsGet:
    """Store the given settings and apply them to the running server immediately."""
    values = _stored_values(data)
    forbid_demo(services)
    if values:
        await services.meta.put_settings(values, unix(services.clock()))
    stored = await services.meta.get_settings()
    services.apply_settings(stored)
    return _settings_get(stored)


route_handlers = [get_tenant_settings, patch_tenant_settings]
