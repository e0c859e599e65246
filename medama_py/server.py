"""serve(config): tune the process, then run the app under uvicorn until SIGINT/SIGTERM stops it gracefully."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn

from medama_py.allocator import MemoryTrimmer, tune_malloc
from medama_py.app import create_asgi
from medama_py.clock import system_clock
from medama_py.config import DEFAULT_PORT
from medama_py.duckdb_allocator import tune_jemalloc
from medama_py.http_limits import BoundedHttpToolsProtocol
from medama_py.logs import setup_logging
from medama_py.storage.files import PRIVATE_UMASK, busy_analytics_file, make_data_directories
from medama_py.version import version_line

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from litestar.types import ASGIApp

    from medama_py.autossl import CertificateManager
    from medama_py.config import Config

__all__ = ["serve", "tune_process"]

log = logging.getLogger("medama_py")

GRACE_SECONDS = 5  # Medama waits up to 5 s for in-flight requests

# Every hit allocates a few hundred short-lived objects that wait ~20 ms for their commit; with CPython's
# default thresholds (700, 10, 10) the ingest benchmark spent a quarter of its time collecting, including
# full collections of the start-up heap. Hits create almost no reference cycles, so rarer young
# collections cost little memory.
GC_THRESHOLDS = (50_000, 50, 1000)
# The hit writer's thread needs the GIL back from the busy event loop at every DuckDB call of a commit,
# and each hand-over costs up to one switch interval: a contended commit took ~33 ms with the 5 ms default
# and ~13 ms with 0.1 ms; 20 µs raised bench/ingest.py's throughput by a further ~7%.
SWITCH_INTERVAL_S = 0.00002


def tune_process() -> None:
    """Set the interpreter up for ingestion: rarer GC over a frozen start-up heap, and a short GIL switch interval.

    Process-wide state, so the server sets it once, here; tests and tools that build the app in-process
    keep the interpreter's defaults.
    """
    gc.collect()
    gc.freeze()  # start-up objects are never scanned again
    # Unfrozen at exit so interpreter shutdown can free everything (DuckDB's bindings report leaks otherwise).
    atexit.register(gc.unfreeze)
    gc.set_threshold(*GC_THRESHOLDS)
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))


class _Server(uvicorn.Server):
    """uvicorn re-raises the stop signal after shutting down; Medama exits 0 after a graceful stop instead.

    With a port file configured, the bound port is written there once the server listens and removed
    after a graceful stop: a health check reads it instead of guessing how -port or PORT was set.
    """

    def __init__(self, config: uvicorn.Config, port_file: str) -> None:
        super().__init__(config)
        self.port_file = Path(port_file) if port_file else None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.port_file is not None:
            bound = self.servers[0].sockets[0].getsockname()[1] if self.servers else self.config.port
            write_port_file(self.port_file, int(bound))

    @property
    def app_failed_to_start(self) -> bool:
        """Whether the application's own start-up (the lifespan: databases, migrations) failed, not the bind.

        uvicorn exits with the same code for both.
        """
        return bool(getattr(getattr(self, "lifespan", None), "startup_failed", False))

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        if self.port_file is not None:
            self.port_file.unlink(missing_ok=True)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def write_port_file(path: Path, port: int) -> None:
    """Write `port` to `path` atomically (a reader never sees half a number); a failure only warns."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(f"{port}\n", encoding="ascii")
        partial.replace(path)
    except OSError as exc:
        log.warning("could not write the port file", extra={"path": str(path), "error": str(exc)})


def _uvicorn_config(app: Callable[..., Any], host: str, port: int, **extra: Any) -> uvicorn.Config:
    """The uvicorn settings every listener of ours shares."""
    settings: dict[str, Any] = {
        "lifespan": "on",
        "log_config": None,
        "access_log": False,
        "server_header": False,
        "ws": "none",
        # X-Forwarded-For/-Proto are read where they matter (medama_py/clientip.py, api/deps.py), only from
        # trusted proxies; uvicorn rewriting the peer first would only repeat that work on every request.
        "proxy_headers": False,
        "timeout_graceful_shutdown": GRACE_SECONDS,
        "timeout_keep_alive": 300,
        # httptools with a 16 KiB limit on request heads (uvicorn's own h11 limit does not apply to it).
        "http": BoundedHttpToolsProtocol,
    }
    return uvicorn.Config(app, host=host, port=port, **(settings | extra))


def _data_files_problem(config: Config) -> str | None:
    """Make what the databases need; say in one line why they cannot be opened (docs/security.md)."""
    os.umask(PRIVATE_UMASK)  # databases, WAL and journal files: 0600; directories made here: 0700
    try:
        make_data_directories(config.appdb, config.analyticsdb)
    except OSError as exc:
        return f"cannot create the data directory: {exc}"
    return busy_analytics_file(config.analyticsdb)


def serve(config: Config) -> int:
    """Run until a signal; return 0 after a graceful stop and 1 when start-up fails."""
    # Before the first thread: an arena cap only holds for threads that have not picked an arena yet.
    tune_malloc()
    tune_jemalloc()
    setup_logging(config.logger, config.level)
    log.info(version_line())
    log.debug("config", extra={"config": repr(config)})
    if config.profiler:
        log.warning("-profiler is accepted for compatibility; medama_py exposes no profiler endpoints")
    problem = _data_files_problem(config)
    if problem is not None:
        print(f"ERROR: {problem}", file=sys.stderr)
        return 1
    try:
        app = create_asgi(config)
    except Exception as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    tune_process()
    trimmer = MemoryTrimmer()
    trimmer.start()
    try:
        return _serve_plain(config, app) if not config.autossl else _serve_autossl(config, app)
    finally:
        trimmer.stop()


def _serve_plain(config: Config, app: ASGIApp) -> int:
    """One HTTP listener on -port until a signal (the usual way to run)."""
    server = _Server(_uvicorn_config(app, config.host, config.port), config.portfile)
    try:
        server.run()
    except SystemExit as exc:  # uvicorn exits this way when the application's start-up or the bind fails
        if server.app_failed_to_start:
            print("ERROR: the application could not start; the error is logged above", file=sys.stderr)
        else:
            print(f"ERROR: could not start the server on port {config.port} (exit {exc.code})", file=sys.stderr)
        return 1
    except Exception as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    if not server.started:
        print("ERROR: start-up failed; see the log above", file=sys.stderr)
        return 1
    return 0


class _Follower(uvicorn.Server):
    """A second listener (port 80 with -autossl): it leaves signals to the caller, who stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _listen(host: str, port: int, purpose: str) -> socket.socket:
    """Bind a listening socket now, so a port that cannot be used stops start-up with one clear line."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        from medama_py.autossl import AutoSSLError  # only -autossl listens this way: see _serve_autossl

        sock.close()
        hint = " (ports below 1024 need root or CAP_NET_BIND_SERVICE: see README, -autossl)" if port < 1024 else ""
        raise AutoSSLError(f"could not listen on port {port} for {purpose}: {exc.strerror}{hint}") from None
    return sock


def _serve_autossl(config: Config, app: ASGIApp) -> int:
    """-autossl: HTTP on -httpport for ACME and redirects at once, then HTTPS on -httpsport with the certificate."""
    # Imported here, not at the top: the ACME client and cryptography add ~14.5 MB of RSS to a server that
    # does not use -autossl (most run behind a proxy that terminates TLS).
    from medama_py.autossl import (
        AcmeSettings,
        AutoSSLError,
        CertificateManager,
        CertStore,
        ChallengeTokens,
        certs_dir_for,
        http_redirect_app,
    )

    if config.port != DEFAULT_PORT:
        log.warning("-port is ignored with -autossl", extra={"http": config.httpport, "https": config.httpsport})
    tokens = ChallengeTokens()
    settings = AcmeSettings(
        config.autossl, config.autosslemail, config.acmedirectory, Path(config.acmeca) if config.acmeca else None
    )
    manager = CertificateManager(settings, CertStore(certs_dir_for(config.appdb)), tokens, system_clock)
    try:
        http_socket = _listen(config.host, config.httpport, "HTTP (ACME challenges and redirects)")
        https_socket = _listen(config.host, config.httpsport, "HTTPS")
    except AutoSSLError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    http = _Follower(
        _uvicorn_config(
            http_redirect_app(tokens, config.autossl, config.httpsport), config.host, config.httpport, lifespan="off"
        )
    )
    https = _Server(
        _uvicorn_config(app, config.host, config.httpsport, ssl_context_factory=lambda _c, _d: manager.ssl_context()),
        config.portfile,
    )
    with asyncio.Runner(loop_factory=https.config.get_loop_factory()) as runner:
        return runner.run(_run_autossl(manager, http, https, http_socket, https_socket))


async def _run_autossl(
    manager: CertificateManager,
    http: uvicorn.Server,
    https: uvicorn.Server,
    http_socket: socket.socket,
    https_socket: socket.socket,
) -> int:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # until HTTPS runs; its server then catches them itself
        loop.add_signal_handler(sig, stopping.set)
    http_task = asyncio.create_task(http.serve(sockets=[http_socket]))
    first = asyncio.create_task(asyncio.to_thread(manager.load_or_order))
    stop_wait = asyncio.create_task(stopping.wait())
    await asyncio.wait({first, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    status = 0
    if not first.done():  # stopped while the first order was still running
        first.cancel()
    elif first.exception() is not None:
        print(f"ERROR: {first.exception()}", file=sys.stderr)
        status = 1
    else:
        renewal = asyncio.create_task(manager.renew_forever())
        await https.serve(sockets=[https_socket])
        renewal.cancel()
        status = 0 if https.started else 1
    stop_wait.cancel()
    http.should_exit = True
    await http_task
    return status
