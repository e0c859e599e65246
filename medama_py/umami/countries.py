"""Country names as medama_py stores them (from the browser's time zone) ↔ ISO 3166 alpha-2 codes, as Umami uses."""

from __future__ import annotations

import json
from functools import cache

from babel import Locale

from medama_py.ingest.datafiles import read_data_text

__all__ = ["code_for_country", "country_for_code"]

# Names in the time-zone table that CLDR spells differently.
_SPELLINGS = {"French Southern Territories": "TF", "St. Helena": "SH"}


@cache
def _codes() -> dict[str, str]:
    """Every stored country name → its alpha-2 code."""
    english = {name: code for code, name in Locale("en").territories.items() if len(code) == 2 and code.isalpha()}
    stored = set(json.loads(read_data_text("tz-country.json")).values())
    table = {name: english[name] for name in stored if name in english}
    return table | _SPELLINGS


@cache
def _names() -> dict[str, str]:
    return {code: name for name, code in _codes().items()}


def code_for_country(name: str | None) -> str | None:
    """The alpha-2 code of a stored country name; None for "Unknown" and anything unlisted."""
    return None if name is None else _codes().get(name)


def country_for_code(code: str) -> str:
    """The stored name for an alpha-2 code (any case); an unknown code is returned as given (it matches nothing)."""
    return _names().get(code.upper(), code)
