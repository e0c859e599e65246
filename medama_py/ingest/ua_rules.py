"""ua-parser's rules run in order, first match wins, with a literal prefilter (docs/performance.md#user-agent-rules).

ua-parser's reference resolver tries every rule's regex in turn: ~500 µs for a User-Agent that matches late.
Its native resolver (ua-parser-rs) is fast but held 11-28 MB for the browser and OS rules (its caches grow with
the strings it sees), a large share of what a small VM can give. This keeps the reference semantics (the same
compiled `re` patterns ua-parser already holds, the same order) and skips the rules that cannot match:

- every rule's pattern is read once with the `re` parser for the literals any match must contain: a run of
  literal characters that is always there, or a choice each of whose branches brings its own; runs that ignore
  case (a pattern's flag, or classes such as `[Ss]pider`) are looked for in the folded string;
- each rule is filed under one of those requirements (the one least likely to be in an ordinary browser's
  User-Agent); a User-Agent finds the needles it contains once, for every rule set together, through an
  index by each needle's first three characters, and looks up only the rules filed under them;
- a rule found that way is checked against its other requirements, then its regex runs.

A rule with no literal that every match must contain runs on every User-Agent, as in the reference. The
requirements are a necessary condition only, so the answer is the reference resolver's
(tests/unit/test_ua_rules.py checks it with Hypothesis and against the reference).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The parser of `re` is how Python itself reads a pattern; it has been private since 3.11 (sre_parse before).
from re import _constants as sre
from re import _parser as sre_parse
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

__all__ = ["FirstMatch", "Needle", "Needles", "Text", "requirements"]

T = TypeVar("T")


class Needle(NamedTuple):
    """A string every match contains. `folded`: looked for in the folded text (from `[Ss]pider`, or ignoring case)."""

    text: str
    folded: bool


# A requirement: a match contains at least one of these needles.
Requirement = frozenset[Needle]

_INDEX_WIDTH = 3  # Needles files its needles by their first characters, this many
# The User-Agents of the browsers most sites see: a requirement met by these is a poor filter.
_ORDINARY_USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
    "Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
)
# Folding for needles that ignore case: one character for one, so a match stays contiguous. Besides A-Z, the
# characters `re` matches to an ASCII letter when ignoring case (tests/unit/test_ua_rules.py checks all of them).
_FOLD = str.maketrans(
    {
        **{chr(code): chr(code + 32) for code in range(ord("A"), ord("Z") + 1)},
        "\u0130": "i",
        "\u0131": "i",
        "\u017f": "s",
        "\u212a": "k",
    }
)
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


def requirements(pattern: str, flags: int = 0) -> list[Requirement]:
    """The literals every match of `pattern` contains, as requirements that all hold (empty: none known)."""
    parsed = sre_parse.parse(pattern, flags)
    return _sequence(parsed, ignore_case=bool(parsed.state.flags & re.IGNORECASE))


def _sequence(items: Iterable[tuple[Any, Any]], *, ignore_case: bool) -> list[Requirement]:
    found: list[Requirement] = []
    run: list[str] = []
    folded = False  # whether the run ignores case somewhere (a flag, or [Ss]): then it is looked for folded

    def end_run() -> None:
        nonlocal folded
        if run:
            text = "".join(run)
            found.append(frozenset((Needle(text.translate(_FOLD) if folded else text, folded=folded),)))
            run.clear()
        folded = False

    for op, arg in items:
        if op is sre.LITERAL and not ignore_case:
            run.append(chr(arg))
            continue
        if op is sre.LITERAL and chr(arg).isascii():
            run.append(chr(arg).lower())
            folded = True
            continue
        letter = _case_class(arg) if op is sre.IN and not ignore_case else None
        if letter is not None:
            run.append(letter)
            folded = True
            continue
        if op is sre.BRANCH and run and not folded and not ignore_case:
            # `re` moves a prefix the branches share in front of them ((?:Opera|OPR) reads as O(?:pera|PR)):
            # the run before a choice, joined to each branch's leading literals, is required too.
            leads = [_leading_literals(branch) for branch in arg[1]]
            if all(leads):
                found.append(frozenset(Needle("".join(run) + lead, folded=False) for lead in leads))
        end_run()
        if op is sre.SUBPATTERN:
            _group, add_flags, del_flags, body = arg
            inner_ignore = (ignore_case or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
            found.extend(_sequence(body, ignore_case=inner_ignore))
        elif op is sre.ATOMIC_GROUP:
            found.extend(_sequence(arg, ignore_case=ignore_case))
        elif op in _REPEATS and arg[0] >= 1:
            found.extend(_sequence(arg[2], ignore_case=ignore_case))
        elif op is sre.BRANCH:
            either = _either(arg[1], ignore_case=ignore_case)
            if either is not None:
                found.append(either)
        # Anything else (other classes, any character, optional repeats, anchors, look-arounds, back
        # references) requires no literal we can name, and breaks a run of literal characters.
    end_run()
    return found


def _leading_literals(items: Iterable[tuple[Any, Any]]) -> str:
    lead = []
    for op, arg in items:
        if op is not sre.LITERAL:
            break
        lead.append(chr(arg))
    return "".join(lead)


def _case_class(items: list[tuple[Any, Any]]) -> str | None:
    """The letter of a class that is one ASCII letter in both cases (`[Ss]`), else None."""
    if len(items) != 2 or any(op is not sre.LITERAL for op, _ in items):
        return None
    first, second = (chr(code) for _, code in items)
    if first.isascii() and first.isalpha() and first != second and first.lower() == second.lower():
        return first.lower()
    return None


def _either(branches: Sequence[Any], *, ignore_case: bool) -> Requirement | None:
    """One requirement for a choice: each branch's best, joined (None when a branch requires nothing)."""
    alternatives: set[Needle] = set()
    for branch in branches:
        best = _best(_sequence(branch, ignore_case=ignore_case))
        if best is None:
            return None
        alternatives.update(best)
    return frozenset(alternatives)


def _selectivity(requirement: Requirement) -> tuple[int, int, int]:
    ordinary = sum(
        any(needle.text in (ua.translate(_FOLD) if needle.folded else ua) for ua in _ORDINARY_USER_AGENTS)
        for needle in requirement
    )
    return (-ordinary, min(len(needle.text) for needle in requirement), -len(requirement))


def _best(found: list[Requirement]) -> Requirement | None:
    return max(found, key=_selectivity, default=None)


class Needles:
    """The needles of one or more rule sets, all looked for in one pass over a text (see Text.found)."""

    def __init__(self) -> None:
        self._short: set[Needle] = set()  # shorter than the index's width: each looked for directly
        self._index: dict[str, set[Needle]] = {}  # the first characters, folded -> the needles starting so
        # The same as tuples (faster to walk), made at the first lookup after a change.
        self._lookup: tuple[tuple[Needle, ...], dict[str, tuple[Needle, ...]]] | None = None

    def add(self, needle: Needle) -> None:
        self._lookup = None
        if len(needle.text) < _INDEX_WIDTH:
            self._short.add(needle)
        else:
            self._index.setdefault(needle.text[:_INDEX_WIDTH].translate(_FOLD), set()).add(needle)

    def found(self, text: str, folded: str) -> set[Needle]:
        """The needles `text` contains (`folded` is the text folded, for the needles that ignore case)."""
        if self._lookup is None:
            self._lookup = tuple(self._short), {start: tuple(needles) for start, needles in self._index.items()}
        short, index = self._lookup
        present = set()
        for needle in short:
            if needle.text in (folded if needle.folded else text):
                present.add(needle)
        for start in set(map("".join, zip(folded, folded[1:], folded[2:], strict=False))) & index.keys():
            for needle in index[start]:
                if needle.text in (folded if needle.folded else text):
                    present.add(needle)
        return present


class Text:
    """A string to match, with the needles it contains found once for every rule set of the same Needles."""

    __slots__ = ("_folded", "_found", "needles", "text")

    def __init__(self, text: str, needles: Needles) -> None:
        self.text = text
        self.needles = needles
        self._folded: str | None = None
        self._found: set[Needle] | None = None

    def has(self, needle: Needle) -> bool:
        return needle.text in (self.folded() if needle.folded else self.text)

    def folded(self) -> str:
        if self._folded is None:
            self._folded = self.text.translate(_FOLD)
        return self._folded

    def found(self) -> set[Needle]:
        if self._found is None:
            self._found = self.needles.found(self.text, self.folded())
        return self._found


@dataclass(frozen=True, slots=True)
class _Rule(Generic[T]):
    others: tuple[Requirement, ...]  # the requirements besides the one the rule is filed under
    match: Callable[[str], T | None]


class FirstMatch(Generic[T]):
    """The first of ua-parser's matchers (in order) that matches, as ua-parser's basic resolver finds it.

    Where ua-parser's matcher raises instead of answering (its basic resolver would raise too), the answer is
    None: parsing a User-Agent never fails. Its needles go into `needles`, which rule sets may share.
    """

    def __init__(self, matchers: Iterable[Callable[[str], T | None]], needles: Needles) -> None:
        self._rules: list[_Rule[T]] = []
        self._always: list[int] = []  # positions of the rules that run on every text
        filed: dict[Needle, list[int]] = {}  # needle -> positions of the rules filed under it
        for position, matcher in enumerate(matchers):
            found = requirements(_pattern(matcher), getattr(matcher, "flags", 0))
            key = _best(found)
            self._rules.append(_Rule(tuple(requirement for requirement in found if requirement is not key), matcher))
            if key is None:
                self._always.append(position)
                continue
            for needle in key:
                filed.setdefault(needle, []).append(position)
                needles.add(needle)
        self._filed = {needle: tuple(positions) for needle, positions in filed.items()}

    def __call__(self, text: Text) -> T | None:
        rules = self._rules
        for position in self._candidates(text):
            rule = rules[position]
            if all(any(text.has(needle) for needle in requirement) for requirement in rule.others):
                try:
                    result = rule.match(text.text)
                except (ValueError, TypeError):
                    # The rule matched but ua-parser could not build its answer (the family it captures is empty
                    # or missing, e.g. `;  Build/Karbonn`): the first match decides, and it names nothing.
                    return None
                if result is not None:
                    return result
        return None

    def _candidates(self, text: Text) -> list[int]:
        """The positions, in order, of the rules filed under a needle the text contains, and those that always run."""
        positions = set(self._always)
        filed = self._filed
        for needle in text.found() & filed.keys():
            positions.update(filed[needle])
        return sorted(positions)


def _pattern(matcher: object) -> str:
    pattern = getattr(matcher, "regex", None)
    if not isinstance(pattern, str):
        raise TypeError(f"{matcher!r} has no regex pattern")
    return pattern
