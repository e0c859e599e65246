"""Generate a large analytics file with one INSERT … SELECT per table (no hits through HTTP).

Rows are spread evenly over 2024 in time order (as ingestion appends them), with realistic cardinalities:
thousands of paths (Zipf-like), hundreds of referrer hosts in tens of groups, ~100 countries, tens of
languages, UTM tags on a fifth of the visits, durations on four fifths, custom events on a tenth.
Pseudo-random values come from hash(row number), so a file of a given size is always the same.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import duckdb

from medama_py.storage.analytics_file import create_analytics_schema

if TYPE_CHECKING:
    from pathlib import Path

HOSTNAME = "bench.example.com"
PATHS = 5000
REFERRER_HOSTS = 400
REFERRER_GROUPS = 60

_BROWSERS = ["Chrome", "Safari", "Firefox", "Edge", "Opera", "Samsung Internet", "Brave", "Vivaldi", "Yandex", "UC"]
_OS = ["Windows", "macOS", "iOS", "Android", "Linux", "ChromeOS", "iPadOS", "FreeBSD"]
_DEVICES = ["Desktop", "Mobile", "Tablet"]
_BASES = ["English", "German", "French", "Spanish", "Japanese", "Portuguese", "Italian", "Dutch", "Polish", "Korean"]


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _pick(values: list[str], salt: int) -> str:
    """SQL picking one of `values` for row i, skewed towards the first ones."""
    skew = f"pow((hash(i, {salt}) % 1000000) / 1000000.0, 2)"
    return f"{_sql_list(values)}[1 + floor({skew} * {len(values)})::BIGINT]"


def _views_sql(rows: int) -> str:
    countries = [f"Country {n:03d}" for n in range(100)]
    dialects = [f"{b} ({r})" for b in _BASES for r in ("A", "B", "C", "D")]
    hosts = [f"ref{n}.example.org" for n in range(REFERRER_HOSTS)]
    year_us = 366 * 24 * 3600 * 1_000_000
    u = "((hash(i, {}) % 1000000) / 1000000.0)"
    return f"""
    INSERT INTO views
    SELECT
        'b' || i::VARCHAR AS bid,
        '{HOSTNAME}' AS hostname,
        '/page/' || floor(pow({u.format(1)}, 3) * {PATHS})::BIGINT::VARCHAR AS pathname,
        {u.format(2)} < 0.35 AS is_unique_user,
        {u.format(3)} < 0.6 AS is_unique_page,
        CASE WHEN {u.format(4)} < 0.4 THEN '' ELSE
            {_sql_list(hosts)}[1 + floor(pow({u.format(5)}, 2) * {REFERRER_HOSTS})::BIGINT] END AS referrer_host,
        CASE WHEN {u.format(4)} < 0.4 OR {u.format(6)} < 0.3 THEN '' ELSE
            'Group ' || (floor(pow({u.format(5)}, 2) * {REFERRER_HOSTS})::BIGINT % {REFERRER_GROUPS})::VARCHAR
        END AS referrer_group,
        {_pick(countries, 7)} AS country,
        {_pick(_BASES, 8)} AS language_base,
        {_pick(dialects, 8)} AS language_dialect,
        {_pick(_BROWSERS, 9)} AS ua_browser,
        {_pick(_OS, 10)} AS ua_os,
        {_pick(_DEVICES, 11)} AS ua_device_type,
        CASE WHEN {u.format(12)} < 0.8 THEN '' ELSE 'source' || (hash(i, 13) % 20)::VARCHAR END AS utm_source,
        CASE WHEN {u.format(12)} < 0.8 THEN '' ELSE 'medium' || (hash(i, 14) % 8)::VARCHAR END AS utm_medium,
        CASE WHEN {u.format(12)} < 0.8 THEN '' ELSE 'campaign' || (hash(i, 15) % 50)::VARCHAR END AS utm_campaign,
        CASE WHEN {u.format(16)} < 0.2 THEN NULL
             ELSE floor(pow({u.format(17)}, 3) * 600000)::UINTEGER END AS duration_ms,
        TIMESTAMPTZ '2024-01-01 00:00:00+00'
            + to_microseconds((i::HUGEINT * {year_us} // {rows})::BIGINT) AS date_created
    FROM range({rows}) AS t(i)
    """


def _events_sql(rows: int) -> str:
    # One view in ten has an event with two properties; the event follows its view by a few seconds.
    return """
    INSERT INTO events
    SELECT 'batch' || v.bid, v.hostname, p.name,
           CASE p.name WHEN 'plan' THEN ['free', 'pro', 'team'][1 + (hash(v.bid) % 3)::BIGINT]
                       ELSE 'value' || (hash(v.bid, p.name) % 30)::VARCHAR END,
           v.date_created + INTERVAL 5 SECOND, v.bid
    FROM views AS v, (VALUES ('plan'), ('button')) AS p(name)
    WHERE hash(v.bid) % 10 = 0
    """


def generate(path: Path, rows: int) -> float:
    """Write `rows` page views (plus events) to a new file at `path`; returns the seconds it took."""
    began = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)
    conn = duckdb.connect(str(path))
    try:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SET enable_progress_bar = false")
        create_analytics_schema(conn)
        conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (rows BIGINT)")
        conn.execute(_views_sql(rows))
        conn.execute(_events_sql(rows))
        conn.execute("INSERT INTO bench_meta VALUES (?)", [rows])
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
    return time.perf_counter() - began


def ensure(path: Path, rows: int) -> float | None:
    """Generate the file unless one with exactly `rows` rows is already there; returns seconds or None."""
    if path.exists():
        try:
            with duckdb.connect(str(path), read_only=True) as conn:
                found = conn.execute("SELECT rows FROM bench_meta").fetchone()
            if found is not None and found[0] == rows:
                return None
        except duckdb.Error:
            pass
    return generate(path, rows)
