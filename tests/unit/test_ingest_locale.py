"""Timezone → country and Accept-Language → language names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medama_py.ingest.locale import LanguageError, Languages, country_for_timezone, parse_accept_language

TIMEZONES = [
    ("Europe/London", "United Kingdom"),
    ("America/New_York", "United States"),
    ("Europe/Istanbul", "Türkiye"),
    ("Asia/Hong_Kong", "Hong Kong SAR China"),
    ("Africa/Abidjan", "Côte d’Ivoire"),
    ("Antarctica/Troll", "Antarctica"),
    ("Asia/Calcutta", "India"),
    ("Europe/Kiev", "Ukraine"),
    ("America/Buenos_Aires", "Argentina"),
    ("Australia/Sydney", "Australia"),
    ("UTC", None),
    ("Etc/UTC", None),
    ("Etc/GMT+5", None),
    ("europe/london", None),
    ("", None),
]


@pytest.mark.parametrize(("tz", "country"), TIMEZONES)
def test_country_for_timezone(tz: str, country: str | None) -> None:
    assert country_for_timezone(tz) == country


LANGUAGES = [
    ("en-US,en;q=0.9", "English", "American English"),
    ("en-GB,en;q=0.9", "English", "British English"),
    ("en-AU", "English", "Australian English"),
    ("en-CA", "English", "Canadian English"),
    ("fr-CA", "French", "Canadian French"),
    ("fr-CH", "French", "Swiss French"),
    ("de-AT", "German", "Austrian German"),
    ("de-CH", "German", "Swiss High German"),
    ("es-419", "Spanish", "Latin American Spanish"),
    ("es-ES", "Spanish", "European Spanish"),
    ("es-MX", "Spanish", "Mexican Spanish"),
    ("pt-BR", "Portuguese", "Brazilian Portuguese"),
    ("pt-PT", "Portuguese", "European Portuguese"),
    ("nl-BE", "Dutch", "Flemish"),
    ("zh-Hans", "Chinese", "Simplified Chinese"),
    ("zh-Hant", "Chinese", "Traditional Chinese"),
    ("ar-001", "Arabic", "Modern Standard Arabic"),
    ("de-DE", "German", "German (Germany)"),
    ("en-IN", "English", "English (India)"),
    ("sr-Latn-RS", "Serbian", "Serbian (Latin, Serbia)"),
    ("de", "German", "German"),
    ("ja", "Japanese", "Japanese"),
    ("*", "Multiple languages", "Multiple languages"),
    ("english", "English", "English"),
    ("EN-us", "English", "American English"),
    ("en_US", "English", "American English"),
    ("ja;q=0.5, fr;q=0.8", "French", "French"),
    ("fr;q=0.8, ja;q=0.8", "French", "French"),  # stable sort keeps header order on ties
    ("en;q=0, de", "German", "German"),
    ("  , de ,", "German", "German"),
    ("", "Unknown", "Unknown"),
    ("   ", "Unknown", "Unknown"),
    ("en;q=0", "Unknown", "Unknown"),
]


@pytest.mark.parametrize(("header", "base", "dialect"), LANGUAGES)
def test_parse_accept_language(header: str, base: str, dialect: str) -> None:
    assert parse_accept_language(header) == Languages(base, dialect)


@pytest.mark.parametrize(
    "header",
    [
        "xx",
        "en-ZZZZZ-1",
        "en;q=abc",
        "en;q",
        "en;x=1",
        "i-klingon",
        ";q=1",
        "en-US;q=0.9;x",
        "en," + "-a" * 1001,
        "1234",
    ],
)
def test_malformed_accept_language(header: str) -> None:
    with pytest.raises(LanguageError):
        parse_accept_language(header)


@given(st.text(max_size=200))
def test_accept_language_never_raises_anything_else(header: str) -> None:
    try:
        result = parse_accept_language(header)
    except LanguageError:
        return
    assert isinstance(result.base, str)
    assert isinstance(result.dialect, str)
