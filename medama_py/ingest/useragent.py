"""User-agent → Medama's browser, OS and device names, plus its bot rule (docs/tracker.md#hits).

ua-parser (with the ua-parser-rs native resolver) identifies the browser and OS family; its names
(`Chrome Mobile`, `Mac OS X`, `Samsung Internet`, ...) are mapped onto the exact vocabulary Medama
stores. Families outside that vocabulary (in-app browsers, web views, Chromium forks) fall back to
the engine tokens Medama itself keys on, highest precedence first. ua-parser has no notion of a
device *type*, so that comes from Medama's device tokens and the OS default.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ua_parser import Domain, load_builtins
from ua_parser.regex import Resolver

from medama_py.model import UNKNOWN

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

_resolver: Resolver | None = None


def _get_resolver() -> Resolver:
    # Built on first use: loading the regex set costs ~0.2 s, which tests that never parse should not pay.
    global _resolver
    if _resolver is None:
        _resolver = Resolver(load_builtins())
    return _resolver


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
    result = _get_resolver()(ua, Domain.USER_AGENT | Domain.OS | Domain.DEVICE)
    is_bot = bool(_BOT_RE.search(ua)) or (result.device is not None and result.device.family == "Spider")
    family = result.user_agent.family if result.user_agent else ""
    browser = _BROWSERS.get(family) or _first_token(ua, _BROWSER_TOKENS)
    os_family = result.os.family if result.os else ""
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
