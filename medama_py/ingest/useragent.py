"""User-agent → Medama's browser, OS and device names, plus its bot rule (docs/tracker.md#hits).

ua-parser's rules (run in order behind a literal prefilter: ingest/ua_rules.py) identify the browser
and OS family; its names (`Chrome Mobile`, `Mac OS X`, `Samsung Internet`, ...) are mapped onto the exact
vocabulary Medama stores. Families outside that vocabulary (in-app browsers, web views, Chromium forks) fall back to
the engine tokens Medama itself keys on, highest precedence first. ua-parser has no notion of a
device *type*, so that comes from Medama's device tokens and the OS default.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ua_parser import load_builtins

from medama_py.ingest.ua_rules import FirstMatch, Needles, Text
from medama_py.model import UNKNOWN

if TYPE_CHECKING:
    from ua_parser.core import Device, Matcher

__all__ = ["UNKNOWN", "UserAgent", "parse_user_agent"]

# UA strings past this length skip the cache so hostile headers cannot pin memory (real ones are < 600).
_MAX_CACHED_LEN = 1024
_CACHE_SIZE = 8192


@dataclass(frozen=True, slots=True)
class UserAgent:
    browser: str
    os: str
    device: str
    is_bot: bool

    @property
    def unknown_count(self) -> int:
        """How many of browser, OS and device are unknown (each counts towards the drop rule)."""
        return (self.browser == UNKNOWN) + (self.os == UNKNOWN) + (self.device == UNKNOWN)


_BROWSERS: dict[str, str] = {
    "Chrome": "Chrome",
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome",
    "Chromium": "Chrome",
    "Edge": "Edge",
    "Edge Mobile": "Edge",
    "Firefox": "Firefox",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Firefox Beta": "Firefox",
    "Firefox Alpha": "Firefox",
    "Firefox Focus": "Firefox",
    "Safari": "Safari",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari",
    "Opera": "Opera",
    "Opera Mobile": "Opera",
    "Opera Mini": "Opera Mini",
    "IE": "IE",
    "IE Mobile": "IE",
    "Vivaldi": "Vivaldi",
    "Samsung Internet": "Samsung Browser",
    "Falkon": "Falkon",
    "NintendoBrowser": "Nintendo Browser",
    "Yandex Browser": "Yandex Browser",
    "Android": "Android Browser",
}

_OSES: dict[str, str] = {
    "Windows": "Windows",
    "Mac OS X": "MacOS",
    "iOS": "iOS",
    "iPadOS": "iOS",
    "Android": "Android",
    "Chrome OS": "ChromeOS",
    "Linux": "Linux",
    "Ubuntu": "Linux",
    "Fedora": "Linux",
    "Debian": "Linux",
    "Arch Linux": "Linux",
    "Linux Mint": "Linux",
    "Red Hat": "Linux",
    "openSUSE": "Linux",
    "Gentoo": "Linux",
    "OpenBSD": "OpenBSD",
}

# Medama's fallback tokens, highest precedence first: the first one present wins.
_BROWSER_TOKENS: tuple[tuple[str, str], ...] = (
    ("YaBrowser", "Yandex Browser"),
    ("NintendoBrowser", "Nintendo Browser"),
    ("Falkon", "Falkon"),
    ("SamsungBrowser", "Samsung Browser"),
    ("Vivaldi", "Vivaldi"),
    ("EdgiOS", "Edge"),
    ("EdgA", "Edge"),
    ("Edg", "Edge"),
    ("Opera Mini", "Opera Mini"),
    ("OPiOS", "Opera"),
    ("OPR", "Opera"),
    ("Opera", "Opera"),
    ("MSIE", "IE"),
    ("Trident", "IE"),
    ("FxiOS", "Firefox"),
    ("Firefox", "Firefox"),
    ("CriOS", "Chrome"),
    ("Chrome", "Chrome"),
    ("Safari", "Safari"),
    ("AppleWebKit", "Safari"),
)

_OS_TOKENS: tuple[tuple[str, str], ...] = (
    ("Windows NT", "Windows"),
    ("Macintosh", "MacOS"),
    ("CrOS", "ChromeOS"),
    ("OpenBSD", "OpenBSD"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("iPod", "iOS"),
    ("Android", "Android"),
    ("Linux", "Linux"),
    ("Ubuntu", "Linux"),
    ("Fedora", "Linux"),
)

# Medama's bot tokens are plain substrings (so `Googlebot`, `bingbot`, `AdsBot-Google` all match).
# `spider` and `crawl` are added because crawlers such as Bytespider otherwise pass as Android phones.
_BOT_RE = re.compile(
    r"Bot|bot|HeadlessChrome|Headless|Slurp|LinkCheck|QuickLook|Haosou|Yahoo Ad|Google|Mediapartners"
    r"|facebookexternalhit|facebookcatalog|Baidu|Instagram|Pinterest|PageSpeedInsights|WhatsApp"
    r"|[Ss]pider|[Cc]rawl"
)
# Device tokens match at the start of a word, so `LG-H440n` counts but `ALGO` does not.
_TV_RE = re.compile(
    r"TV|\b(?:Large Screen|Smart Display|PlayStation|CrKey|Roku|AFT|Web0S|Xbox|Nexus Player|ADT-[12]|Nintendo WiiU)"
)
_TABLET_RE = re.compile(r"\b(?:Tablet|Touch|iPad|Nintendo Switch|Kindle|Silk)")
_MOBILE_RE = re.compile(r"\b(?:Mobile|ONEPLUS|Huawei|HUAWEI|HTC|Galaxy|iPhone|iPod|Windows Phone|LG)")

_SPIDER = "Spider"


def _is_spider_rule(matcher: Matcher[Device]) -> bool:
    # Concrete matchers carry their family template; the abstract Matcher type does not declare it.
    return getattr(matcher, "family", None) == _SPIDER


class _Extractors:
    """ua-parser's browser and OS rules, and of its device rules what the bot rule asks.

    The device is wanted for one thing: whether ua-parser's first matching device rule names a Spider. All 633
    device rules would add ~2,000 needles to every lookup and many regex runs (their needles are often short,
    such as `LG` or `Mi`), so only the rules whose family is Spider run at first. The leading run of Spider
    rules decides alone (a match there is the first match). A later Spider rule (the generic crawler rule near
    the end) is the first match only if no rule before it matches, which the full set answers, for such
    User-Agents only. A rule whose family is a template could also produce "Spider" from a captured "Spider",
    but such a User-Agent already contains "Spider" and is a bot by _BOT_RE first.
    """

    def __init__(self) -> None:
        browsers, oses, devices = load_builtins()
        self.needles = Needles()
        self.browser = FirstMatch(browsers, self.needles)
        self.os = FirstMatch(oses, self.needles)
        leading = next((i for i, m in enumerate(devices) if not _is_spider_rule(m)), len(devices))
        self._first_spiders = FirstMatch(devices[:leading], self.needles)
        self._later_spiders = FirstMatch([m for m in devices[leading:] if _is_spider_rule(m)], self.needles)
        # The full set is asked rarely (see above): its ~2,000 needles would slow every other lookup.
        self._all_devices_needles = Needles()
        self._all_devices = FirstMatch(devices, self._all_devices_needles)

    def text(self, ua: str) -> Text:
        """`ua` ready for the rule sets: the needles it holds are found once for all of them."""
        return Text(ua, self.needles)

    def is_spider(self, ua: Text) -> bool:
        """Whether ua-parser's device result for `ua` would be the Spider family."""
        if self._first_spiders(ua) is not None:
            return True
        if self._later_spiders(ua) is None:
            return False
        device = self._all_devices(Text(ua.text, self._all_devices_needles))
        return device is not None and device.family == _SPIDER


_extractors: _Extractors | None = None


def _get_extractors() -> _Extractors:
    # Built on first use: reading the rules costs ~0.1 s, which tests that never parse should not pay.
    global _extractors
    if _extractors is None:
        _extractors = _Extractors()
    return _extractors


def _first_token(ua: str, table: tuple[tuple[str, str], ...]) -> str:
    for token, name in table:
        if token in ua:
            return name
    return UNKNOWN


def _device_type(ua: str, os_name: str) -> str:
    if _TV_RE.search(ua):
        return "TV"
    if _TABLET_RE.search(ua):
        return "Tablet"
    if _MOBILE_RE.search(ua):
        return "Mobile"
    if os_name == "Android":
        # Android tablets are the Android UAs without the `Mobile` token (Google's own guidance).
        return "Tablet"
    if os_name == "iOS":
        return "Mobile"
    if os_name in {"Windows", "MacOS", "ChromeOS", "Linux", "OpenBSD"}:
        return "Desktop"
    return UNKNOWN


def _parse(ua: str) -> UserAgent:
    extractors = _get_extractors()
    probe = extractors.text(ua)
    is_bot = bool(_BOT_RE.search(ua)) or extractors.is_spider(probe)
    browser_match, os_match = extractors.browser(probe), extractors.os(probe)
    family = browser_match.family if browser_match is not None else ""
    browser = _BROWSERS.get(family) or _first_token(ua, _BROWSER_TOKENS)
    os_family = os_match.family if os_match is not None else ""
    os_name = _OSES.get(os_family) or _first_token(ua, _OS_TOKENS)
    if browser == "Opera Mini" and "OPiOS" in ua:
        # ua-parser calls Opera for iOS "Opera Mini"; Medama's OPiOS token names it Opera.
        browser = "Opera"
    if browser == "Safari" and os_name == "Android":
        # Android's stock WebKit browser also carries `Safari`; Medama names it by the OS.
        browser = "Android Browser"
    return UserAgent(browser=browser, os=os_name, device=_device_type(ua, os_name), is_bot=is_bot)


_parse_cached = functools.lru_cache(maxsize=_CACHE_SIZE)(_parse)


def parse_user_agent(ua: str) -> UserAgent:
    """Return Medama's names for a User-Agent header; never raises, `Unknown` where nothing matches."""
    if not ua:
        return UserAgent(UNKNOWN, UNKNOWN, UNKNOWN, is_bot=False)
    if len(ua) > _MAX_CACHED_LEN:
        return _parse(ua)
    return _parse_cached(ua)
