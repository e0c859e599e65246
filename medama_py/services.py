"""Services: everything the handlers share (stores, writer, hostnames, tenant settings), built whole by the lifespan."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.clientip import TrustedProxies
from medama_py.password_gate import PasswordGate
from medama_py.throttle import LoginThrottle

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from medama_py.config import Config
    from medama_py.ingest.pipeline import IngestDeps
    from medama_py.ingest.umami_collect import UmamiCollector
    from medama_py.model import TenantSettings
    from medama_py.storage.analytics import AnalyticsStore
    from medama_py.storage.meta import MetaStore
    from medama_py.storage.writer import HitWriter

__all__ = ["SCRIPT_VARIANTS", "Services", "script_file_for"]

SCRIPT_VARIANTS = ("default", "click-events", "page-events")


def script_file_for(script_type: str) -> str:
    """Map the stored `script_type` to the served file name, e.g. `default,click-events` → `click-events.js`.

    Features other than `default` are sorted and joined with dots. An empty list (only ever stored by Medama,
    which accepted `[]`) serves the default tracker instead of a 404 (docs/compatibility.md#tenant-settings).
    """
    features = sorted({part for part in script_type.split(",") if part and part != "default"})
    return f"{'.'.join(features)}.js" if features else "default.js"


class Services:
    """What the handlers share; the app's lifespan builds it once the stores are open, on `app.state.services`.

    A plain class rather than a dataclass: Litestar's signature model would otherwise try to validate it.
    """

    def __init__(
        self,
        *,
        config: Config,
        meta: MetaStore,
        analytics: AnalyticsStore,
        writer: HitWriter,
        clock: Callable[[], datetime],
        hostnames: set[str],
        ingest: IngestDeps,
        umami_collector: UmamiCollector,
        settings: TenantSettings,
    ) -> None:
        self.config = config
        self.meta = meta
        self.analytics = analytics
        self.writer = writer
        self.clock = clock
        # Shared live: the websites API adds and removes names, ingestion reads them on every hit.
        self.hostnames = hostnames
        self.ingest = ingest
        self.ip_filter = ingest.ip_filter
        self.umami_collector = umami_collector
        self.login_throttle = LoginThrottle()
        self.passwords = PasswordGate()
        self.trusted_proxies = TrustedProxies.parse(config.trustedproxies)
        self.script_file = "default.js"
        # Wrong share-link passwords, counted per client like failed logins (docs/accounts.md).
        self.share_throttle = LoginThrottle()
        self.apply_settings(settings)

    def apply_settings(self, settings: TenantSettings) -> None:
        """Apply stored tenant settings at once: at start-up and after every PATCH (docs/compatibility.md)."""
        self.script_file = script_file_for(settings.script_type)
        self.ip_filter.update(
            block_abusive=settings.block_abusive_ips == "true",
            block_tor=settings.block_tor_exit_nodes == "true",
            blocked_ips=[ip.strip() for ip in settings.blocked_ips.split(",") if ip.strip()],
        )
