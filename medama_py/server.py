"""serve(config): tune the process, then run the app under uvicorn until SIGINT/SIGTERM stops it gracefully."""

from __future__ import annotations

import atexit
import contextlib
import gc
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn

from medama_py.app import create_asgi
from medama_py.http_limits import BoundedHttpToolsProtocol
from medama_py.logs import setup_logging
from medama_py.version import version_line

if TYPE_CHECKING:
    import socket
    from collections.abc import Iterator

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


def serve(config: Config) -> int:
    """Run until a signal; return 0 after a graceful stop and 1 when start-up fails."""
    setup_logging(config.logger, config.level)
    log.info(version_line())
    log.debug("config", extra={"config": repr(config)})
    if config.profiler:
        log.warning("-profiler is accepted for compatibility; medama_py exposes no profiler endpoints")
    try:
        app = create_asgi(config)
    except Exception as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    tune_process()
    server = _Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            lifespan="on",
            log_config=None,
            access_log=False,
            server_header=False,
            # X-Forwarded-For/-Proto are read where they matter (ingest/ip.py, api/deps.py), by Medama's rules;
            # uvicorn rewriting the peer first would only repeat that work on every request.
            proxy_headers=False,
            timeout_graceful_shutdown=GRACE_SECONDS,
            timeout_keep_alive=300,
            # httptools with a 16 KiB limit on request heads (uvicorn's own h11 limit does not apply to it).
            http=BoundedHttpToolsProtocol,
        ),
        config.portfile,
    )
    try:
        server.run()
    except SystemExit as exc:  # uvicorn exits this way when it cannot bind the port
        print(f"ERROR: could not start the server on port {config.port} (exit {exc.code})", file=sys.stderr)
        return 1
    except Exception as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    if not server.started:
        print("ERROR: start-up failed; see the log above", file=sys.stderr)
        return 1
    return 0
