"""Configuration: Medama's `start` flags in Go's single-dash style, with the `-env` opt-in (docs/compatibility.md)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from medama_py.clientip import TrustedProxies

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "DEFAULT_ANALYTICS_DB",
    "DEFAULT_APP_DB",
    "DEFAULT_PORT",
    "FLAGS",
    "Config",
    "ConfigError",
    "HelpRequested",
    "UsageError",
    "load",
    "parse_size",
    "usage",
]

DEFAULT_PORT = 8080
PORT_FILE_ENV = "MEDAMA_PORT_FILE"
DEFAULT_APP_DB = "./me_meta.db"
DEFAULT_ANALYTICS_DB = "./me_analytics.db"
LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"
LOGGERS = ("json", "pretty")
LEVELS = ("debug", "info", "warn", "error")

FlagKind = Literal["int", "str", "bool"]


@dataclass(frozen=True)
class Flag:
    name: str
    kind: FlagKind
    env: str | None
    help: str


FLAGS: tuple[Flag, ...] = (
    Flag("port", "int", "PORT", "HTTP listen port (default 8080)"),
    Flag("logger", "str", "LOGGER", "log format: json or pretty (default json)"),
    Flag("level", "str", "LEVEL", "log level: debug, info, warn or error (default info)"),
    Flag("autossl", "str", "AUTO_SSL", "domain to get a Let's Encrypt certificate for: HTTPS on 443, HTTP on 80"),
    Flag("autosslemail", "str", "AUTO_SSL_EMAIL", "ACME account email for -autossl (expiry notices)"),
    Flag("acmedirectory", "str", "ACME_DIRECTORY", "advanced: ACME directory URL for -autossl (default Let's Encrypt)"),
    Flag("acmeca", "str", "ACME_CA", "advanced: PEM root certificate to trust for the ACME server (private CAs)"),
    Flag("httpport", "int", "HTTP_PORT", "advanced: HTTP port with -autossl (default 80)"),
    Flag("httpsport", "int", "HTTPS_PORT", "advanced: HTTPS port with -autossl (default 443)"),
    Flag("appdb", "str", "APP_DATABASE_HOST", "SQLite meta database path (default ./me_meta.db)"),
    Flag("analyticsdb", "str", "ANALYTICS_DATABASE_HOST", "DuckDB analytics database path (default ./me_analytics.db)"),
    Flag("profiler", "bool", "PROFILER", "accepted for compatibility; medama_py exposes no profiler"),
    Flag("env", "bool", None, "read the environment variables listed above (flags still win)"),
    Flag("demo", "bool", "DEMO_MODE", "demo mode: every change is refused with 403"),
    Flag("corsorigins", "str", "CORS_ALLOWED_ORIGINS", "comma-separated CORS origins allowed on the /api routes"),
    Flag(
        "trustedproxies",
        "str",
        "TRUSTED_PROXIES",
        "comma-separated CIDRs of reverse proxies whose X-Forwarded-For/Forwarded headers are believed (default none)",
    ),
    Flag(
        "memorylimit",
        "str",
        "MEMORY_LIMIT",
        "memory the analytics database may use, e.g. 128MB or 1GB (default: 40% of the container's or host's memory)",
    ),
)
_BY_NAME = {flag.name: flag for flag in FLAGS}


@dataclass(frozen=True)
class Config:
    """Everything `medama start` needs, decided once at start-up."""

    port: int = DEFAULT_PORT
    logger: str = "json"
    level: str = "info"
    autossl: str = ""
    autosslemail: str = ""
    acmedirectory: str = LETS_ENCRYPT
    acmeca: str = ""
    httpport: int = 80
    httpsport: int = 443
    appdb: str = DEFAULT_APP_DB
    analyticsdb: str = DEFAULT_ANALYTICS_DB
    profiler: bool = False
    env: bool = False
    demo: bool = False
    corsorigins: tuple[str, ...] = ()
    trustedproxies: str = ""
    # Bytes of memory DuckDB may use; None chooses from the host (storage/limits.py).
    memorylimit: int | None = None
    host: str = "0.0.0.0"  # noqa: S104  (Medama listens on all interfaces: ":<port>")
    # Not a Medama flag: where to write the port once it is bound (MEDAMA_PORT_FILE, read with or without
    # -env), so the Docker health check asks the port the server really uses (docs in README, Docker).
    portfile: str = ""


class ConfigError(Exception):
    """A bad value: start-up stops with exit code 1 and this one-line message."""


class UsageError(Exception):
    """An unknown or malformed flag: the usage is printed and the exit code is 2."""


class HelpRequested(Exception):
    """`-h` / `-help`: the usage is printed and the exit code is 0."""


def usage() -> str:
    """Return the usage text of `medama start`."""
    lines = ["Usage of start:"]
    for flag in FLAGS:
        kind = "" if flag.kind == "bool" else f" {'int' if flag.kind == 'int' else 'string'}"
        env = f" (env {flag.env})" if flag.env else ""
        lines.append(f"  -{flag.name}{kind}\n    \t{flag.help}{env}")
    return "\n".join(lines)


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(I?B)?", re.IGNORECASE)
# The smallest -memorylimit: below it DuckDB cannot scan a row group per thread.
MIN_MEMORY_LIMIT = 32 * 1024 * 1024


def parse_size(text: str) -> int:
    """Parse a byte size like `128MB`, `1GB`, `512MiB`, `1.5G` or `300000000` (binary units, like DuckDB's).

    Raises:
        ValueError: anything else, or a size of zero.
    """
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(text)
    number, unit = float(match.group(1)), match.group(2).upper()
    size = int(number * 1024 ** "_KMGT".index(unit or "_"))
    if size <= 0:
        raise ValueError(text)
    return size


def _memory_limit(raw: object) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        size = parse_size(str(raw))
    except ValueError:
        raise ConfigError(f'invalid memory limit "{raw}": -memorylimit takes a size like 128MB or 1GB') from None
    if size < MIN_MEMORY_LIMIT:
        raise ConfigError(f'memory limit "{raw}" is too small: -memorylimit must be at least 32MB')
    return size


def parse_bool(text: str) -> bool:
    """Parse a boolean the way Go's strconv.ParseBool does; raise ValueError otherwise."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(text)


def _convert(flag: Flag, raw: str, source: str) -> object:
    try:
        if flag.kind == "int":
            return int(raw.strip(), 10)
        if flag.kind == "bool":
            return parse_bool(raw)
    except ValueError:
        raise ConfigError(f'invalid value "{raw}" for {source}: parse error') from None
    return raw


def _env_defaults(environ: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {}
    for flag in FLAGS:
        if flag.env is not None and flag.env in environ:
            values[flag.name] = _convert(flag, environ[flag.env], f"environment variable {flag.env}")
    return values


def _split_flag(token: str) -> tuple[str, str | None] | None:
    if not token.startswith("-") or token in ("-", "--"):
        return None
    body = token[2:] if token.startswith("--") else token[1:]
    name, sep, value = body.partition("=")
    return name, (value if sep else None)


def _parse_flags(argv: Sequence[str]) -> dict[str, object]:
    values: dict[str, object] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":  # noqa: S105  (the end-of-flags marker, not a secret)
            i += 1
            break
        split = _split_flag(token)
        if split is None:
            raise UsageError(f"unexpected argument {token!r}")
        name, value = split
        if name in ("h", "help"):
            raise HelpRequested
        flag = _BY_NAME.get(name)
        if flag is None:
            raise UsageError(f"flag provided but not defined: -{name}")
        if value is None and flag.kind != "bool":
            if i + 1 >= len(argv):
                raise UsageError(f"flag needs an argument: -{name}")
            i += 1
            value = argv[i]
        try:
            values[name] = True if value is None else _convert(flag, value, f"flag -{name}")
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
        i += 1
    if i < len(argv):
        raise UsageError(f"unexpected argument {argv[i]!r}")
    return values


def _validate(values: dict[str, object]) -> Config:
    config = Config()
    fields = {f.name for f in dataclasses.fields(Config)}
    kwargs = {k: v for k, v in values.items() if k in fields and k not in ("corsorigins", "memorylimit")}
    origins = str(values.get("corsorigins", ""))
    config = dataclasses.replace(
        config,
        **kwargs,  # type: ignore[arg-type]
        corsorigins=tuple(origins.split(",")) if origins else (),
        memorylimit=_memory_limit(values.get("memorylimit")),
    )
    if not 1 <= config.port <= 65535:
        raise ConfigError(f"invalid port {config.port}: -port must be between 1 and 65535")
    if config.logger not in LOGGERS:
        raise ConfigError(f'invalid logger type "{config.logger}": -logger must be json or pretty')
    if config.level not in LEVELS:
        raise ConfigError(f'invalid log level "{config.level}": -level must be debug, info, warn or error')
    if not config.appdb:
        raise ConfigError("-appdb must not be empty")
    if not config.analyticsdb:
        raise ConfigError("-analyticsdb must not be empty")
    try:
        TrustedProxies.parse(config.trustedproxies)
    except ValueError as exc:
        raise ConfigError(f"invalid -trustedproxies: {exc}") from None
    if config.autossl:
        config = dataclasses.replace(config, autossl=config.autossl.strip().lower().removesuffix("."))
        _check_autossl(config)
    return config


# A DNS name of letters, digits and hyphens (no wildcard: HTTP-01 cannot prove one), and a plain address.
_DOMAIN = re.compile(r"(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _check_autossl(config: Config) -> None:
    if not _DOMAIN.fullmatch(config.autossl):
        raise ConfigError(f'invalid domain "{config.autossl}": -autossl takes one name like example.com')
    if config.autosslemail and not _EMAIL.fullmatch(config.autosslemail):
        raise ConfigError(f'invalid email "{config.autosslemail}" for -autosslemail')
    if not config.acmedirectory.startswith("https://"):
        raise ConfigError(f'invalid ACME directory "{config.acmedirectory}": -acmedirectory must be an https:// URL')
    if config.acmeca and not Path(config.acmeca).is_file():
        raise ConfigError(f'-acmeca "{config.acmeca}" is not a readable file')
    for name, port in (("httpport", config.httpport), ("httpsport", config.httpsport)):
        if not 1 <= port <= 65535:
            raise ConfigError(f"invalid port {port}: -{name} must be between 1 and 65535")
    if config.httpport == config.httpsport:
        raise ConfigError("-httpport and -httpsport must differ")


def load(argv: Sequence[str], environ: Mapping[str, str]) -> Config:
    """Build the Config for `start` from its arguments and, only with an exact `-env`/`--env`, the environment.

    Environment values become defaults, so an explicit flag always wins (Medama's rule).
    """
    values: dict[str, object] = {}
    if "-env" in argv or "--env" in argv:
        values.update(_env_defaults(environ))
    values.update(_parse_flags(argv))
    values["portfile"] = environ.get(PORT_FILE_ENV, "")
    return _validate(values)
