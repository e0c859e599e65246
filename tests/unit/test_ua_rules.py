"""ua-parser's rules behind the literal prefilter answer exactly as ua-parser's reference resolver does."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ua_parser import Domain, load_builtins
from ua_parser.basic import Resolver

from medama_py.ingest.ua_rules import _FOLD, FirstMatch, Needle, Needles, Text, requirements

from .test_ingest_useragent_spiders import USER_AGENTS

if TYPE_CHECKING:
    from ua_parser.core import OS, Device, UserAgent

BROWSERS, OSES, DEVICES = load_builtins()
RULES = [*BROWSERS, *OSES, *DEVICES]


def exact(*texts: str) -> frozenset[Needle]:
    return frozenset(Needle(text, folded=False) for text in texts)


def folded(*texts: str) -> frozenset[Needle]:
    return frozenset(Needle(text, folded=True) for text in texts)


@pytest.mark.parametrize(
    ("pattern", "flags", "expected"),
    [
        (r"(Chrome)/(\d+)", 0, [exact("Chrome"), exact("/")]),
        (r"(?:foo)?bar", 0, [exact("bar")]),
        (r"Mozilla.{1,200}(Ddg)/", 0, [exact("Mozilla"), exact("Ddg"), exact("/")]),
        (r"(?:Edge|Edg)/(\d+)", 0, [exact("Edg"), exact("/")]),  # `re` reads it as Edg(?:e|): no lead in one branch
        (r"(?:Opera|OPR)x", 0, [exact("Opera", "OPR"), exact("O"), exact("pera", "PR"), exact("x")]),
        (r"(?:a|)b", 0, [exact("b")]),
        (r"[Ss]pider", 0, [folded("spider")]),
        (r"[Ss]crape|[Cc]rawl", 0, [folded("scrape", "crawl")]),
        (r"Bot-(\d)", re.IGNORECASE, [folded("bot-")]),
        (r"(?i:tv)Box", 0, [folded("tv"), exact("Box")]),
        (r"(?:x|\d)+y", 0, [exact("y")]),
        (r"a{2,}b", 0, [exact("a"), exact("b")]),
        (r"^.{0,200}\d", 0, []),
    ],
)
def test_requirements(pattern: str, flags: int, expected: list[frozenset[Needle]]) -> None:
    assert requirements(pattern, flags) == expected


def _meets_every_requirement(text: str, found: list[frozenset[Needle]]) -> bool:
    probe = text.translate(_FOLD)
    return all(any(needle.text in (probe if needle.folded else text) for needle in either) for either in found)


@st.composite
def rule_and_match(draw: st.DrawFn) -> tuple[Any, str]:
    rule: Any = draw(st.sampled_from(RULES))
    pattern: re.Pattern[str] = rule.pattern
    return rule, draw(st.from_regex(pattern))


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(rule_and_match())
def test_every_string_a_rule_matches_meets_its_requirements(case: tuple[Any, str]) -> None:
    """The prefilter's one promise: it never skips a rule that would match (strings drawn from each rule)."""
    rule, text = case
    assert rule.pattern.search(text)
    assert _meets_every_requirement(text, requirements(rule.regex, getattr(rule, "flags", 0)))


def test_folding_covers_every_character_re_matches_to_ascii_when_ignoring_case() -> None:
    any_ascii = re.compile(r"[\x20-\x7e]", re.IGNORECASE)
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if not any_ascii.fullmatch(char):
            continue
        matched = [a for a in map(chr, range(0x20, 0x7F)) if re.fullmatch(re.escape(a), char, re.IGNORECASE)]
        assert matched, char
        assert {a.lower() for a in matched} == {char.translate(_FOLD)}, char


def reference_first(matchers: list[Any], ua: str) -> object:
    """ua-parser's basic resolver, first match wins, but a matcher that raises answers None (as FirstMatch does)."""
    for matcher in matchers:
        try:
            result = matcher(ua)
        except (ValueError, TypeError):
            return None
        if result is not None:
            return result
    return None


@dataclass
class Resolvers:
    needles: Needles
    browser: FirstMatch[UserAgent]
    os: FirstMatch[OS]
    device: FirstMatch[Device]

    def assert_same_as_reference(self, ua: str) -> None:
        text = Text(ua, self.needles)
        expected = tuple(reference_first(matchers, ua) for matchers in (BROWSERS, OSES, DEVICES))
        assert (self.browser(text), self.os(text), self.device(text)) == expected


@pytest.fixture(scope="module")
def resolvers() -> Resolvers:
    needles = Needles()
    sets = FirstMatch(BROWSERS, needles), FirstMatch(OSES, needles), FirstMatch(DEVICES, needles)
    return Resolvers(needles, *sets)


@pytest.mark.parametrize("ua", USER_AGENTS)
def test_known_user_agents_resolve_as_the_reference(resolvers: Resolvers, ua: str) -> None:
    resolvers.assert_same_as_reference(ua)


def test_the_reference_matches_the_basic_resolver_where_it_answers(resolvers: Resolvers) -> None:
    reference = Resolver((BROWSERS, OSES, DEVICES))
    for ua in USER_AGENTS:
        result = reference(ua, Domain.ALL)
        assert (result.user_agent, result.os, result.device) == tuple(
            reference_first(matchers, ua) for matchers in (BROWSERS, OSES, DEVICES)
        )


def test_a_matcher_that_cannot_name_its_match_answers_none(resolvers: Resolvers) -> None:
    ua = "Mozilla/5.0 (Linux; Android 4.4;  Build/Karbonn) AppleWebKit/537.36"
    with pytest.raises(ValueError, match="device family"):
        Resolver((BROWSERS, OSES, DEVICES))(ua, Domain.DEVICE)
    assert resolvers.device(Text(ua, resolvers.needles)) is None


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(USER_AGENTS), st.integers(0, 200), st.text(max_size=12), st.booleans())
def test_altered_user_agents_resolve_as_the_reference(
    resolvers: Resolvers, ua: str, at: int, insert: str, swap_case: bool
) -> None:
    """Real strings with odd unicode spliced in and their case changed, which the folding must not miss."""
    altered = ua[:at] + insert + ua[at:]
    resolvers.assert_same_as_reference(altered.swapcase() if swap_case else altered)
