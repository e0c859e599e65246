"""The bot rule's Spider check runs only ua-parser's Spider rules at first, and answers as the full device set does."""

from __future__ import annotations

import pytest
from ua_parser import Domain, load_builtins
from ua_parser.basic import Resolver

from medama_py.ingest.useragent import _Extractors

# Browsers, a Kindle (Silk: the generic crawler rule matches it, and so does an earlier Kindle rule), crawlers
# caught only by ua-parser's leading Spider rules or only by its generic crawler rule, and odd strings.
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; U; Android 4.0.3; en-us; KFTT Build/IML74K) AppleWebKit/537.36 (KHTML, like Gecko) Silk/3.68",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114 Safari/537.36 PTST/230901.1",
    "Mozilla/5.0 (X11; Datanyze; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/65.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (PetalBot)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 14_0 like Mac OS X) AppleWebKit (KHTML, like Gecko) Mobile BingPreview/1.0b",
    "Java/1.8.0_292",
    "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
    "Daum/4.1",
    "favicon fetcher 1.0",
    "Mozilla/5.0 (Windows NT 6.1) scraper-client/2",
    "Mozilla/5.0 (Linux; Android 10; SM-G973F zao) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/83 Mobile Safari/537",
    "Nokia6230i/2.0 (03.40) Profile/MIDP-2.0 Configuration/CLDC-1.1 (compatible; Googlebot-Mobile/2.1)",
    "curl/8.5.0",
    "",
    "x" * 300,
]


@pytest.fixture(scope="module")
def reference() -> Resolver:
    return Resolver(load_builtins())


@pytest.fixture(scope="module")
def extractors() -> _Extractors:
    return _Extractors()


@pytest.mark.parametrize("ua", USER_AGENTS)
def test_spider_answer_equals_the_full_device_set(ua: str, reference: Resolver, extractors: _Extractors) -> None:
    device = reference(ua, Domain.DEVICE).device
    assert extractors.is_spider(extractors.text(ua)) == (device is not None and device.family == "Spider")


@pytest.mark.parametrize("ua", USER_AGENTS)
def test_browser_and_os_equal_the_full_resolver(ua: str, reference: Resolver, extractors: _Extractors) -> None:
    result = reference(ua, Domain.USER_AGENT | Domain.OS)
    text = extractors.text(ua)
    browser, os = extractors.browser(text), extractors.os(text)
    assert (browser.family if browser else None) == (result.user_agent.family if result.user_agent else None)
    assert (os.family if os else None) == (result.os.family if result.os else None)
