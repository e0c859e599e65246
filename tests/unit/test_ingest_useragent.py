"""User-agent parsing: real UA strings → Medama's browser / OS / device names and the bot rule."""
# ruff: noqa: E501  (the table holds real, long UA strings verbatim)

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ua_parser import load_builtins

from medama_py.ingest.useragent import UNKNOWN, parse_user_agent

if TYPE_CHECKING:
    import re

BROWSERS = {
    "Chrome",
    "Edge",
    "Firefox",
    "Safari",
    "Opera",
    "Opera Mini",
    "IE",
    "Vivaldi",
    "Samsung Browser",
    "Falkon",
    "Nintendo Browser",
    "Yandex Browser",
    "Android Browser",
    UNKNOWN,
}
OSES = {"Windows", "MacOS", "Linux", "Android", "iOS", "ChromeOS", "OpenBSD", UNKNOWN}
DEVICES = {"Desktop", "Mobile", "Tablet", "TV", UNKNOWN}

# (user agent, browser, OS, device, is_bot)
# fmt: off
CASES: list[tuple[str, str, str, str, bool]] = [
    # Windows desktop
    ('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'Chrome', 'Windows', 'Desktop', False),
    ('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36', 'Chrome', 'Windows', 'Desktop', False),
    ('Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/59.0.3071.115 Safari/537.36', 'Chrome', 'Windows', 'Desktop', False),
    ('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0', 'Firefox', 'Windows', 'Desktop', False),
    ('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80', 'Edge', 'Windows', 'Desktop', False),
    ('Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Safari/537.36 Edge/15.15063', 'Edge', 'Windows', 'Desktop', False),
    ('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0', 'Opera', 'Windows', 'Desktop', False),
    ('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36', 'Yandex Browser', 'Windows', 'Desktop', False),
    ('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Vivaldi/6.7.3329.21', 'Vivaldi', 'Windows', 'Desktop', False),
    ('Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; WOW64; Trident/4.0; SLCC2; .NET CLR 2.0.50727; .NET CLR 3.5.30729; .NET CLR 3.0.30729; Media Center PC 6.0; .NET4.0C; .NET4.0E; InfoPath.2; GWX:RED)', 'IE', 'Windows', 'Desktop', False),
    ('Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; Trident/6.0)', 'IE', 'Windows', 'Desktop', False),
    ('Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko', 'IE', 'Windows', 'Desktop', False),
    ('Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1; .NET CLR 1.1.4322) NS8/0.9.6', 'IE', 'Windows', 'Desktop', False),
    ('Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/102.0.5005.167 Safari/537.36 OPR/88.0.4412.85', 'Opera', 'Windows', 'Desktop', False),
    # macOS desktop
    ('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15', 'Safari', 'MacOS', 'Desktop', False),
    ('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_6) AppleWebKit/603.3.8 (KHTML, like Gecko) Version/10.1.2 Safari/603.3.8', 'Safari', 'MacOS', 'Desktop', False),
    ('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'Chrome', 'MacOS', 'Desktop', False),
    ('Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0', 'Firefox', 'MacOS', 'Desktop', False),
    ('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0.3112.91 Safari/537.36 Vivaldi/1.92.917.39', 'Vivaldi', 'MacOS', 'Desktop', False),
    ('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0', 'Edge', 'MacOS', 'Desktop', False),
    ('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0', 'Opera', 'MacOS', 'Desktop', False),
    # Linux, ChromeOS and OpenBSD desktop
    ('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'Chrome', 'Linux', 'Desktop', False),
    ('Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', 'Firefox', 'Linux', 'Desktop', False),
    ('Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0', 'Firefox', 'Linux', 'Desktop', False),
    ('Mozilla/5.0 (X11; Fedora; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/119.0', 'Firefox', 'Linux', 'Desktop', False),
    ('Mozilla/5.0 (X11; Linux i686; rv:109.0) Gecko/20100101 Firefox/119.0', 'Firefox', 'Linux', 'Desktop', False),
    ('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Falkon/24.02.2 QtWebEngine/6.7.0 Chrome/118.0.5993.220 Safari/537.36', 'Falkon', 'Linux', 'Desktop', False),
    ('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/80.0.3987.163 Chrome/80.0.3987.163 Safari/537.36', 'Chrome', 'Linux', 'Desktop', False),
    ('Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'Chrome', 'ChromeOS', 'Desktop', False),
    ('Mozilla/5.0 (X11; CrOS armv7l 13597.84.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/92.0.4515.98 Safari/537.36', 'Chrome', 'ChromeOS', 'Desktop', False),
    ('Mozilla/5.0 (X11; OpenBSD amd64; rv:109.0) Gecko/20100101 Firefox/115.0', 'Firefox', 'OpenBSD', 'Desktop', False),
    # iPhone and iPod, including in-app browsers (Instagram is one of Medama's bot tokens)
    ('Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1', 'Safari', 'iOS', 'Mobile', False),
    ('Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_2 like Mac OS X) AppleWebKit/603.1.30 (KHTML, like Gecko) CriOS/60.0.3112.89 Mobile/14F89 Safari/602.1', 'Chrome', 'iOS', 'Mobile', False),
    ('Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1', 'Chrome', 'iOS', 'Mobile', False),
    ('Mozilla/5.0 (iPhone; CPU iPhone OS 9_3 like Mac OS X) AppleWebKit/601.1.46 (KHTML, like Gecko) OPiOS/14.0.0.104835 Mobile/13E233 Safari/9537.53', 'Opera', 'iOS', 'Mobile', False),
    ('Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_2 like Mac OS X) AppleWebKit/603.2.4 (KHTML, like Gecko) FxiOS/8.1.1 Mobile/14F89 Safari/603.2.4', 'Firefox', 'iOS', 'Mobile', False),
    ('Mozilla/5.0 (iPhone; CPU iPhone OS 13_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 EdgiOS/44.11.15 Mobile/15E148 Safari/605.1.15', 'Edge', 'iOS', 'Mobile', False),
    ('Mozilla/5.0 (iPhone; CPU iPhone OS 16_7_8 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148', 'Safari', 'iOS', 'Mobile', False),
    ('Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/460.0.0.48.109;FBBV/590000000;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.4;FBSS/3;FBID/phone;FBLC/en_GB;FBOP/5]', 'Safari', 'iOS', 'Mobile', False),
    ('Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 326.0.3.30.91 (iPhone15,2; iOS 17_4; en_GB; en-GB; scale=3.00; 1179x2556; 598000000)', 'Safari', 'iOS', 'Mobile', True),
    ('Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/312.0.624026048 Mobile/15E148 Safari/604.1', 'Safari', 'iOS', 'Mobile', False),
    ('Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 DuckDuckGo/7 Safari/605.1.15', 'Safari', 'iOS', 'Mobile', False),
    ('Mozilla/5.0 (iPod touch; CPU iPhone OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1', 'Safari', 'iOS', 'Mobile', False),
    # iPad
    ('Mozilla/5.0 (iPad; CPU OS 10_3_2 like Mac OS X) AppleWebKit/603.2.4 (KHTML, like Gecko) Version/10.0 Mobile/14F89 Safari/602.1', 'Safari', 'iOS', 'Tablet', False),
    ('Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/119.0.6045.169 Mobile/15E148 Safari/604.1', 'Chrome', 'iOS', 'Tablet', False),
    ('Mozilla/5.0 (iPad; CPU OS 14_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/119.0 Mobile/15E148 Safari/605.1.15', 'Firefox', 'iOS', 'Tablet', False),
    ('Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1', 'Safari', 'iOS', 'Tablet', False),
    # Android phones, including web views and in-app browsers
    ('Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36', 'Chrome', 'Android', 'Mobile', False),
    ('Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36', 'Chrome', 'Android', 'Mobile', False),
    ('Mozilla/5.0 (Linux; Android 6.0.1; SAMSUNG SM-G930F Build/MMB29K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/44.0.2403.133 Mobile Safari/537.36', 'Samsung Browser', 'Android', 'Mobile', False),
    ('Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36', 'Samsung Browser', 'Android', 'Mobile', False),
    ('Mozilla/5.0 (Linux; Android 4.4.2; en-us; Z520 Build/KOT49H) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30', 'Android Browser', 'Android', 'Mobile', False),
    ('Mozilla/5.0 (Linux; U; Android 4.4.2; en-us; Z520 Build/KOT49H) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30', 'Android Browser', 'Android', 'Mobile', False),
    ('Mozilla/5.0 (Linux; Android 5.0.1; LG-H440n Build/LRX21Y) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/38.0.2125.102 Mobile Safari/537.36', 'Chrome', 'Android', 'Mobile', False),
    ('Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0', 'Firefox', 'Android', 'Mobile', False),
    ('Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.2478.64', 'Edge', 'Android', 'Mobile', False),
    ('Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 OPR/81.0.0.0', 'Opera', 'Android', 'Mobile', False),
    ('Mozilla/5.0 (Linux; U; Android 10; en-US; RMX2020 Build/QP1A.190711.020) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 UCBrowser/13.4.0.1306 Mobile Safari/537.36', 'Chrome', 'Android', 'Mobile', False),
    ('Mozilla/5.0 (Linux; arm_64; Android 13; RMX3511) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.27 YaBrowser/24.1.7.27.00 (alpha) SA/3 Mobile Safari/537.36', 'Yandex Browser', 'Android', 'Mobile', False),
    ('Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/460.0.0.48.109;]', 'Chrome', 'Android', 'Mobile', False),
    ('Mozilla/5.0 (Linux; Android 12; moto g(60)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36', 'Chrome', 'Android', 'Mobile', False),
    ('Mozilla/5.0 (Linux; Android 13; ONEPLUS A6013) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36', 'Chrome', 'Android', 'Mobile', False),
    ('Mozilla/5.0 (Linux; U; Android 2.3.4; fr-fr; HTC Desire Build/GRJ22) AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1', 'Android Browser', 'Android', 'Mobile', False),
    ('Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) Presto/2.5.25 Version/10.54', 'Opera Mini', 'Unknown', 'Unknown', False),
    # Android tablets (no `Mobile` token)
    ('Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'Chrome', 'Android', 'Tablet', False),
    ('Mozilla/5.0 (Linux; Android 11; Lenovo TB-J606F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'Chrome', 'Android', 'Tablet', False),
    ('Mozilla/5.0 (Linux; Android 9; KFMAWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/124.3.1 like Chrome/124.0.6367.82 Safari/537.36', 'Chrome', 'Android', 'Tablet', False),
    ('Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Safari/537.36', 'Samsung Browser', 'Android', 'Tablet', False),
    ('Mozilla/5.0 (Android 14; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0', 'Firefox', 'Android', 'Tablet', False),
    # TV, console and streaming devices
    ('Mozilla/5.0 (X11; Linux aarch64) AppleWebKit/537.36 (KHTML, like Gecko) CrKey/1.56.500000 DeviceType/AudioOnly', 'Safari', 'Linux', 'TV', False),
    ('Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36', 'Safari', 'Unknown', 'TV', False),
    ('Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.88 Safari/537.36 WebAppManager', 'Chrome', 'Linux', 'TV', False),
    ('Mozilla/5.0 (Linux; Android 9; AFTMM Build/PS7633) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.230 Mobile Safari/537.36', 'Chrome', 'Android', 'TV', False),
    ('Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko)', 'Safari', 'Unknown', 'TV', False),
    ('Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Safari/537.36 Edge/44.18363.8131', 'Edge', 'Windows', 'TV', False),
    ('Mozilla/5.0 (Nintendo Switch; WifiWebAuthApplet) AppleWebKit/606.4 (KHTML, like Gecko) NF/6.0.1.15.4 NintendoBrowser/5.1.0.20393', 'Nintendo Browser', 'Unknown', 'Tablet', False),
    # Crawlers, link previews and headless browsers (dropped as bots)
    ('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'Unknown', 'Unknown', 'Unknown', True),
    ('Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.118 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'Chrome', 'Android', 'Mobile', True),
    ('Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)', 'Unknown', 'Unknown', 'Unknown', True),
    ('Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/112.0.0.0 Safari/537.36', 'Chrome', 'Unknown', 'Unknown', True),
    ('Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)', 'Unknown', 'Unknown', 'Unknown', True),
    ('Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)', 'Unknown', 'Unknown', 'Unknown', True),
    ('Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)', 'Unknown', 'Unknown', 'Unknown', True),
    ('Mozilla/5.0 (compatible; DuckDuckBot-Https/1.1; https://duckduckgo.com/duckduckbot)', 'Unknown', 'Unknown', 'Unknown', True),
    ('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)', 'Safari', 'MacOS', 'Desktop', True),
    ('facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)', 'Unknown', 'Unknown', 'Unknown', True),
    ('Twitterbot/1.0', 'Unknown', 'Unknown', 'Unknown', True),
    ('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/125.0.6422.76 Safari/537.36', 'Chrome', 'Linux', 'Desktop', True),
    ('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36', 'Chrome', 'Windows', 'Desktop', True),
    ('Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse', 'Chrome', 'Android', 'Mobile', False),
    ('Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)', 'Android Browser', 'Android', 'Mobile', True),
    ('Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)', 'Safari', 'Unknown', 'Unknown', True),
    ('Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)', 'Unknown', 'Unknown', 'Unknown', True),
    ('WhatsApp/2.23.20.0 A', 'Unknown', 'Unknown', 'Unknown', True),
    ('Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)', 'Unknown', 'Unknown', 'Unknown', True),
    ('Pinterest/0.2 (+https://www.pinterest.com/bot.html)', 'Unknown', 'Unknown', 'Unknown', True),
    ('Mediapartners-Google', 'Unknown', 'Unknown', 'Unknown', True),
    # Command-line and library clients (three unknowns: dropped by the pipeline)
    ('curl/8.5.0', 'Unknown', 'Unknown', 'Unknown', False),
    ('python-requests/2.31.0', 'Unknown', 'Unknown', 'Unknown', False),
    ('Wget/1.21.4', 'Unknown', 'Unknown', 'Unknown', False),
    ('Go-http-client/1.1', 'Unknown', 'Unknown', 'Unknown', False),
    ('PostmanRuntime/7.37.3', 'Unknown', 'Unknown', 'Unknown', False),
]
# fmt: on


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 80
    assert len({ua for ua, *_ in CASES}) == len(CASES)


@pytest.mark.parametrize(("ua", "browser", "os", "device", "is_bot"), CASES)
def test_parse_user_agent(ua: str, browser: str, os: str, device: str, is_bot: bool) -> None:
    parsed = parse_user_agent(ua)
    assert (parsed.browser, parsed.os, parsed.device, parsed.is_bot) == (browser, os, device, is_bot)


def test_empty_user_agent_is_all_unknown() -> None:
    parsed = parse_user_agent("")
    assert parsed.unknown_count == 3
    assert not parsed.is_bot


def test_huge_user_agent_is_parsed_without_caching() -> None:
    ua = CASES[0][0] + " x" * 5000
    assert parse_user_agent(ua).browser == "Chrome"


@given(st.text(max_size=400))
def test_never_raises_and_stays_in_vocabulary(ua: str) -> None:
    parsed = parse_user_agent(ua)
    assert parsed.browser in BROWSERS
    assert parsed.os in OSES
    assert parsed.device in DEVICES


def test_a_rule_that_cannot_name_its_match_never_raises() -> None:
    # The generic crawler rule sends `Java/...` to the full device set, whose Karbonn rule captures an empty family.
    parsed = parse_user_agent("Java/1.8.0_292 (Linux; Android 4.4;  Build/Karbonn)")
    assert parsed.browser in BROWSERS
    assert parsed.device in DEVICES


@st.composite
def matching_some_rule(draw: st.DrawFn) -> str:
    """A string drawn from one of ua-parser's own rules: the strings most likely to reach odd corners."""
    browsers, oses, devices = load_builtins()
    rule: Any = draw(st.sampled_from([*browsers, *oses, *devices]))
    pattern: re.Pattern[str] = rule.pattern
    return draw(st.from_regex(pattern))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(matching_some_rule())
def test_strings_matching_any_rule_never_raise(ua: str) -> None:
    parsed = parse_user_agent(ua)
    assert (parsed.browser, parsed.os, parsed.device) in {(b, o, d) for b in BROWSERS for o in OSES for d in DEVICES}
