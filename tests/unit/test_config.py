"""config.load: Medama's `start` flags in Go syntax, the exact `-env` opt-in and its env vars."""

from __future__ import annotations

import pytest

from medama_py import config
from medama_py.config import Config, ConfigError, HelpRequested, UsageError, load

# flag name → (a valid text value, the parsed value, its env var)
STRING_FLAGS = {
    "logger": ("pretty", "pretty", "LOGGER"),
    "level": ("debug", "debug", "LEVEL"),
    "autosslemail": ("ops@example.com", "ops@example.com", "AUTO_SSL_EMAIL"),
    "appdb": ("/data/meta.db", "/data/meta.db", "APP_DATABASE_HOST"),
    "analyticsdb": (":memory:", ":memory:", "ANALYTICS_DATABASE_HOST"),
    "corsorigins": (
        "https://a.example,https://b.example",
        ("https://a.example", "https://b.example"),
        "CORS_ALLOWED_ORIGINS",
    ),
    "port": ("9090", 9090, "PORT"),
    "trustedproxies": ("127.0.0.1,10.0.0.0/8", "127.0.0.1,10.0.0.0/8", "TRUSTED_PROXIES"),
    "acmedirectory": ("https://ca.example/dir", "https://ca.example/dir", "ACME_DIRECTORY"),
    "httpport": ("8000", 8000, "HTTP_PORT"),
    "httpsport": ("8443", 8443, "HTTPS_PORT"),
}
BOOL_FLAGS = {"demo": "DEMO_MODE", "profiler": "PROFILER"}


def test_defaults_match_medama() -> None:
    loaded = load([], {})
    assert loaded == Config()
    assert (loaded.port, loaded.logger, loaded.level) == (8080, "json", "info")
    assert (loaded.appdb, loaded.analyticsdb) == ("./me_meta.db", "./me_analytics.db")
    assert (loaded.demo, loaded.env, loaded.profiler, loaded.corsorigins, loaded.autossl) == (
        False,
        False,
        False,
        (),
        "",
    )


def test_every_medama_flag_is_defined() -> None:
    names = {flag.name for flag in config.FLAGS}
    assert names == {
        "port",
        "logger",
        "level",
        "autossl",
        "autosslemail",
        "appdb",
        "analyticsdb",
        "profiler",
        "env",
        "demo",
        "corsorigins",
        "trustedproxies",  # ours: whose forwarding headers count (docs/security.md)
        "memorylimit",  # medama_py's own: DuckDB's memory limit for small VMs
        "acmedirectory",  # ours, advanced: another ACME CA than Let's Encrypt (docs/autossl.md)
        "acmeca",
        "httpport",
        "httpsport",
    }


@pytest.mark.parametrize("name", sorted(STRING_FLAGS))
@pytest.mark.parametrize("style", ["-{n} {v}", "-{n}={v}", "--{n} {v}", "--{n}={v}"])
def test_valued_flags_in_every_go_syntax(name: str, style: str) -> None:
    text, expected, _ = STRING_FLAGS[name]
    if " " in style:
        flag, value = style.split(" ")
        argv = [flag.format(n=name), value.format(v=text)]
    else:
        argv = [style.format(n=name, v=text)]
    assert getattr(load(argv, {}), name) == expected


@pytest.mark.parametrize("name", [*sorted(BOOL_FLAGS), "env"])
def test_bare_boolean_flags(name: str) -> None:
    assert getattr(load([f"-{name}"], {}), name) is True
    assert getattr(load([f"--{name}"], {}), name) is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [("false", False), ("true", True), ("0", False), ("1", True), ("F", False), ("T", True), ("FALSE", False)],
)
def test_boolean_flags_take_go_parsebool_values(text: str, expected: bool) -> None:
    assert load([f"-demo={text}"], {}).demo is expected
    assert load([f"--profiler={text}"], {}).profiler is expected


def test_a_later_flag_overrides_an_earlier_one() -> None:
    assert load(["-demo", "-demo=false"], {}).demo is False
    assert load(["-port", "1000", "-port=2000"], {}).port == 2000


def test_corsorigins_is_split_on_commas_without_trimming() -> None:
    assert load(["-corsorigins", "https://a.example, https://b.example"], {}).corsorigins == (
        "https://a.example",
        " https://b.example",
    )
    assert load(["-corsorigins="], {}).corsorigins == ()


FULL_ENV = {
    "PORT": "7070",
    "LOGGER": "pretty",
    "LEVEL": "warn",
    "AUTO_SSL_EMAIL": "me@example.com",
    "APP_DATABASE_HOST": "/env/meta.db",
    "ANALYTICS_DATABASE_HOST": "/env/analytics.db",
    "PROFILER": "true",
    "DEMO_MODE": "1",
    "CORS_ALLOWED_ORIGINS": "https://x.example,https://y.example",
}


def test_environment_is_ignored_without_env_flag() -> None:
    assert load([], FULL_ENV) == Config()


@pytest.mark.parametrize("token", ["-env", "--env"])
def test_env_flag_reads_every_variable(token: str) -> None:
    loaded = load([token], FULL_ENV)
    assert loaded.env is True
    assert loaded.port == 7070
    assert (loaded.logger, loaded.level) == ("pretty", "warn")
    assert loaded.autosslemail == "me@example.com"
    assert (loaded.appdb, loaded.analyticsdb) == ("/env/meta.db", "/env/analytics.db")
    assert (loaded.profiler, loaded.demo) == (True, True)
    assert loaded.corsorigins == ("https://x.example", "https://y.example")


@pytest.mark.parametrize("token", ["-env=true", "--env=true", "-env=1", "-env=T"])
def test_env_with_a_value_does_not_opt_in(token: str) -> None:
    # Medama scans for the exact tokens `-env` / `--env`; `-env=true` sets the flag but reads nothing.
    loaded = load([token], FULL_ENV)
    assert loaded.env is True
    assert loaded.port == 8080
    assert loaded.demo is False
    assert loaded.appdb == "./me_meta.db"


@pytest.mark.parametrize("position", ["first", "last"])
def test_flags_override_environment(position: str) -> None:
    flags = ["-port", "6060", "-demo=false", "-appdb", "/flag/meta.db", "-corsorigins", "https://flag.example"]
    argv = ["-env", *flags] if position == "first" else [*flags, "-env"]
    loaded = load(argv, FULL_ENV)
    assert loaded.port == 6060
    assert loaded.demo is False
    assert loaded.appdb == "/flag/meta.db"
    assert loaded.corsorigins == ("https://flag.example",)
    # Untouched by flags: still from the environment.
    assert loaded.analyticsdb == "/env/analytics.db"
    assert loaded.level == "warn"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("PORT", "abc"), ("PORT", "80.5"), ("DEMO_MODE", "yes"), ("PROFILER", "on"), ("DEMO_MODE", "")],
)
def test_malformed_environment_value_is_a_config_error_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load(["-env"], {variable: value})


def test_malformed_environment_value_is_ignored_without_env() -> None:
    assert load([], {"PORT": "abc", "DEMO_MODE": "yes"}).port == 8080


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["-port", "abc"], "-port"),
        (["-port=8080x"], "-port"),
        (["--port="], "-port"),
        (["-demo=maybe"], "-demo"),
        (["-profiler=yes"], "-profiler"),
    ],
)
def test_bad_flag_value_is_a_usage_error_naming_the_flag(argv: list[str], flag: str) -> None:
    with pytest.raises(UsageError, match=flag):
        load(argv, {})


@pytest.mark.parametrize("argv", [["-port"], ["-logger"], ["--appdb"]])
def test_missing_value_is_a_usage_error(argv: list[str]) -> None:
    with pytest.raises(UsageError, match=argv[0].lstrip("-")):
        load(argv, {})


@pytest.mark.parametrize("argv", [["-nope"], ["--nope=1"], ["-Port", "1"], ["-ports", "1"], ["stray"]])
def test_unknown_flag_or_stray_argument_is_a_usage_error(argv: list[str]) -> None:
    with pytest.raises(UsageError):
        load(argv, {})


@pytest.mark.parametrize("argv", [["-h"], ["--help"], ["-help"], ["-port", "1", "-h"]])
def test_help_is_requested(argv: list[str]) -> None:
    with pytest.raises(HelpRequested):
        load(argv, {})


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["-logger", "xml"], 'invalid logger type "xml"'),
        (["-level", "trace"], 'invalid log level "trace"'),
        (["-port", "0"], "-port"),
        (["-port", "65536"], "-port"),
        (["-appdb="], "-appdb"),
        (["-analyticsdb", ""], "-analyticsdb"),
        (["-trustedproxies", "10.0.0.0/8,proxy.example"], "invalid -trustedproxies: not an address or CIDR"),
    ],
)
def test_invalid_values_are_config_errors(argv: list[str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load(argv, {})


@pytest.mark.parametrize("source", ["flag", "env"])
def test_autossl_takes_a_domain_normalised_to_lower_case(source: str) -> None:
    argv, environ = (["-autossl", "Example.COM."], {}) if source == "flag" else (["-env"], {"AUTO_SSL": "Example.COM."})
    loaded = load(argv, environ)
    assert (loaded.autossl, loaded.httpport, loaded.httpsport) == ("example.com", 80, 443)
    assert loaded.acmedirectory == "https://acme-v02.api.letsencrypt.org/directory"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["-autossl", "localhost"], 'invalid domain "localhost": -autossl'),
        (["-autossl", "*.example.com"], "invalid domain"),
        (["-autossl", "-bad-.example.com"], "invalid domain"),
        (["-autossl", "a..example.com"], "invalid domain"),
        (["-autossl", "example.com", "-autosslemail", "ops"], 'invalid email "ops" for -autosslemail'),
        (["-autossl", "example.com", "-acmedirectory", "http://ca.example/dir"], "must be an https:// URL"),
        (["-autossl", "example.com", "-acmeca", "/nonexistent/root.pem"], "-acmeca"),
        (["-autossl", "example.com", "-httpport", "0"], "-httpport"),
        (["-autossl", "example.com", "-httpport", "8443", "-httpsport", "8443"], "must differ"),
    ],
)
def test_autossl_settings_are_checked_at_start_up(argv: list[str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load(argv, {})


def test_double_dash_ends_flags() -> None:
    assert load(["-demo", "--"], {}).demo is True
    with pytest.raises(UsageError):
        load(["--", "extra"], {})


def test_usage_lists_every_flag_and_its_env_var() -> None:
    text = config.usage()
    for flag in config.FLAGS:
        assert f"-{flag.name}" in text
        if flag.env:
            assert flag.env in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[(t, True) for t in ("1", "t", "T", "TRUE", "true", "True")],
        *[(f, False) for f in ("0", "f", "F", "FALSE", "false", "False")],
    ],
)
def test_parse_bool_accepts_exactly_go_values(text: str, expected: bool) -> None:
    assert config.parse_bool(text) is expected


@pytest.mark.parametrize("text", ["", "yes", "no", "tRUE", " true", "2", "on"])
def test_parse_bool_rejects_everything_else(text: str) -> None:
    with pytest.raises(ValueError):
        config.parse_bool(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [("128MB", 128 * 2**20), ("1GB", 2**30), ("512MiB", 512 * 2**20), ("1.5G", 1536 * 2**20), ("64 mb", 64 * 2**20),
     ("300000000", 300_000_000), ("65536KB", 64 * 2**20)],
)  # fmt: skip
def test_memory_limit_sizes(text: str, size: int) -> None:
    assert load(["-memorylimit", text], {}).memorylimit == size
    assert load(["-env"], {"MEMORY_LIMIT": text}).memorylimit == size
    assert load(["-env", "-memorylimit", "1GB"], {"MEMORY_LIMIT": text}).memorylimit == 2**30  # the flag wins


def test_memory_limit_defaults_to_the_host() -> None:
    assert load([], {"MEMORY_LIMIT": "128MB"}).memorylimit is None  # env only counts with -env


@pytest.mark.parametrize("text", ["abc", "0", "-5MB", "12XB", "1e9", "MB", "16MB", "1KB"])
def test_bad_memory_limits_are_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="memory limit"):
        load(["-memorylimit", text], {})
    with pytest.raises(ConfigError, match="memory limit"):
        load(["-env"], {"MEMORY_LIMIT": text})
