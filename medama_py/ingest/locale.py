"""Timezone → country and Accept-Language → language names, in Medama's vocabulary (docs/tracker.md#hits)."""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass

from babel import Locale

from medama_py.ingest.datafiles import read_data_text
from medama_py.model import UNKNOWN

__all__ = ["LanguageError", "Languages", "country_for_timezone", "parse_accept_language"]


@functools.cache
def _timezones() -> dict[str, str]:
    table: dict[str, str] = json.loads(read_data_text("tz-country.json"))
    return table


def country_for_timezone(tz: str) -> str | None:
    """Return the English country name for an IANA zone (exact, case-sensitive), or None if unlisted."""
    return _timezones().get(tz)


class LanguageError(ValueError):
    """The Accept-Language header is malformed (counts as an unknown signal)."""


@dataclass(frozen=True, slots=True)
class Languages:
    base: str
    dialect: str


UNKNOWN_LANGUAGES = Languages(UNKNOWN, UNKNOWN)

# Go's x/text accepts these words in place of a tag; `*` means "any", which CLDR names `mul`.
_FALLBACKS = {"english": "en", "deutsch": "de", "italian": "it", "french": "fr", "*": "mul"}
# BCP 47 shape: language, then optional script, region, variants and extensions (x/text also takes `_`).
_TAG_RE = re.compile(
    r"(?P<lang>[a-z]{2,3}|[a-z]{5,8})"
    r"(?:-(?P<script>[a-z]{4}))?"
    r"(?:-(?P<region>[a-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"
    r"(?:-x(?:-[a-z0-9]{1,8})+)?",
    re.ASCII,
)
# Go's strconv.ParseFloat on a decimal (or inf/nan) number; Python's float() is laxer (underscores).
_WEIGHT_RE = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)", re.ASCII | re.IGNORECASE)
_MAX_DASHES = 1000


@functools.cache
def _english() -> Locale:
    return Locale("en")


def _split(s: str, sep: str) -> tuple[str, str]:
    head, found, tail = s.partition(sep)
    return head.strip(), tail.strip() if found else ""


def _parse_weight(text: str) -> float:
    if not text.startswith("q"):
        raise LanguageError("invalid weight")
    text = text[1:].strip()
    if not text.startswith("="):
        raise LanguageError("invalid weight")
    text = text[1:].strip()
    if not _WEIGHT_RE.fullmatch(text):
        raise LanguageError("invalid weight")
    return float(text)


def _parse_tag(text: str) -> tuple[str, str | None, str | None]:
    """Return (language, script, region) in canonical case, or raise LanguageError."""
    lowered = text.lower()
    if lowered in _FALLBACKS:
        return _FALLBACKS[lowered], None, None
    m = _TAG_RE.fullmatch(lowered.replace("_", "-"))
    if m is None:
        raise LanguageError(f"language: tag is not well-formed: {text!r}")
    lang, script, region = m.group("lang"), m.group("script"), m.group("region")
    english = _english()
    # x/text rejects well-formed subtags it does not know; CLDR's English names are the registry here.
    if lang not in english.languages:
        raise LanguageError(f"language: subtag {lang!r} is well-formed but unknown")
    script = script.title() if script else None
    region = region.upper() if region else None
    if (script and script not in english.scripts) or (region and region not in english.territories):
        raise LanguageError(f"language: subtag of {text!r} is well-formed but unknown")
    return lang, script, region


def _display_names(lang: str, script: str | None, region: str | None) -> Languages:
    english = _english()
    base = english.languages.get(lang, "")
    exact = "_".join(part for part in (lang, script, region) if part)
    if exact in english.languages:
        return Languages(base, english.languages[exact])
    if not base:
        return Languages("", "")
    qualifiers = [english.scripts[script]] if script else []
    if region:
        qualifiers.append(english.territories[region])
    dialect = f"{base} ({', '.join(qualifiers)})" if qualifiers else base
    return Languages(base, dialect)


@functools.lru_cache(maxsize=4096)
def _parse_header(header: str) -> Languages:
    if header.count("-") > _MAX_DASHES:
        raise LanguageError("language: tag list exceeds max length")
    entries: list[tuple[float, tuple[str, str | None, str | None]]] = []
    for raw in header.split(","):
        entry, weight_text = _split(raw, ";")
        if not entry and not weight_text:
            continue
        tag = _parse_tag(entry)
        weight = _parse_weight(weight_text) if weight_text else 1.0
        if weight <= 0:
            continue
        entries.append((weight, tag))
    if not entries:
        return UNKNOWN_LANGUAGES
    # Stable sort by weight, descending; NaN sorts as Go's float comparison leaves it (in place).
    entries.sort(key=lambda e: -e[0] if not math.isnan(e[0]) else 0.0)
    return _display_names(*entries[0][1])


def parse_accept_language(header: str) -> Languages:
    """Return the first language's base and dialect names; `Unknown` for an empty header.

    Raises:
        LanguageError: the header is malformed (the pipeline counts it as one unknown signal).
    """
    if not header.strip():
        return UNKNOWN_LANGUAGES
    if len(header) > 4096:
        # Never cached: a hostile header must not pin memory. Parsing is linear, so it is still cheap.
        return _parse_header.__wrapped__(header)
    return _parse_header(header)
