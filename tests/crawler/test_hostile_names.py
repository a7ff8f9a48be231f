"""Hostile names: the crawler does not trust them.

The address check fails closed and pins the address it checked (DNS rebinding), and the URLs an
operator hands the crawler, or a listing links, are validated.
"""

from __future__ import annotations

import asyncio
import collections
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
from crawlhelp import BIN
from hostilesite import HOST, SITES
from scrapy.settings import Settings as ScrapySettings

from lznews_crawler.config import scrapy_settings
from lznews_crawler.safety import Refused
from lznews_crawler.sites import SiteConfigError, parse_sites

# --- item 8: the address check fails closed and is pinned --------------------------------------


def _fake_dns(monkeypatch: pytest.MonkeyPatch,
              answers: dict[str, list[str]]) -> collections.Counter[str]:
    """Replace the system resolver: a name answers the first address of its list, and each
    later lookup the next one (the last one sticks); an unknown name does not resolve."""
    asked: collections.Counter[str] = collections.Counter()

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        addrs = answers[name]
        addr = addrs[min(asked[name], len(addrs) - 1)]
        asked[name] += 1
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        sockaddr = (addr, port or 0, 0, 0) if family == socket.AF_INET6 else (addr, port or 0)
        return [(family, socket.SOCK_STREAM, 6, "", sockaddr)]

    def gethostbyname(name: str) -> str:
        return getaddrinfo(name, 0)[0][4][0]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "gethostbyname", gethostbyname)
    return asked


class _Crawler:
    """What SafetyMiddleware and the resolver read from a Scrapy crawler: its settings."""

    def __init__(self, **overrides: Any) -> None:
        from lznews_common.settings import load_settings
        from lznews_crawler.sites import load_sites

        sites = load_sites()
        s = load_settings(**{"crawler_host_map": "", "crawler_allow_private": False,
                             **overrides})
        self.settings = ScrapySettings(scrapy_settings(s, sites, list(sites.sites)))
        self.stats = None


def _request(url: str) -> Any:
    from scrapy import Request

    return Request(url, meta={"site": "lzbs"})


def test_an_address_check_that_cannot_resolve_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    from lznews_crawler.middlewares import SafetyMiddleware

    # The check's own lookup fails (as glibc's does for LOCALHOST.), whatever the
    # downloader's lookup would have made of the name.
    _fake_dns(monkeypatch, {})
    crawler = _Crawler(crawler_host_map="www.lzbs.com.cn=LOCALHOST.:80")
    mw = SafetyMiddleware(crawler)  # type: ignore[arg-type]
    with pytest.raises(Refused) as refused:
        asyncio.run(mw.process_request(_request("http://www.lzbs.com.cn/list.html")))
    assert refused.value.reason == "dns"
    assert refused.value.transient  # a lookup may work next visit: one attempt, not dead


def test_the_connection_goes_to_the_address_that_was_checked(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name answers a public address to the check and loopback to anyone
    asking later. The downloader's resolver must hand out the checked address only."""
    from scrapy.utils.misc import build_from_crawler, load_object
    from twisted.internet.address import IPv4Address, IPv6Address

    from lznews_crawler.middlewares import SafetyMiddleware

    host = "www.lzbs.com.cn"
    asked = _fake_dns(monkeypatch, {host: ["202.100.64.68", "127.0.0.1"]})
    crawler = _Crawler()
    mw = SafetyMiddleware(crawler)  # type: ignore[arg-type]
    asyncio.run(mw.process_request(_request(f"http://{host}/list.html")))  # passes the check
    assert asked[host] == 1

    resolver_class = load_object(crawler.settings["TWISTED_DNS_RESOLVER"])
    resolver = build_from_crawler(resolver_class, crawler, reactor=None)  # type: ignore[arg-type]
    got: list[Any] = []

    class Receiver:
        def resolutionBegan(self, resolution: Any) -> None:  # noqa: N802 (Twisted API)
            pass

        def addressResolved(self, address: Any) -> None:  # noqa: N802
            got.append(address)

        def resolutionComplete(self) -> None:  # noqa: N802
            got.append("done")

    resolver.resolveHostName(Receiver(), host, 80)
    assert got == [IPv4Address("TCP", "202.100.64.68", 80), "done"]
    assert asked[host] == 1  # the connection did not ask DNS again

    # Twisted asks for internationalised names decoded; the pin is found all the same.
    idn = "xn--95qw61a.lzbs.com.cn"  # 兰州.lzbs.com.cn
    _fake_dns(monkeypatch, {idn: ["2400:da00::6666"]})
    asyncio.run(mw.process_request(_request(f"http://{idn}/list.html")))
    got.clear()
    resolver.resolveHostName(Receiver(), "兰州.lzbs.com.cn", 443)
    assert got == [IPv6Address("TCP", "2400:da00::6666", 443), "done"]

    # A name no check has passed resolves to nothing: the downloader fails closed too.
    got.clear()
    resolver.resolveHostName(Receiver(), "unchecked.lznews.cn", 80)
    assert got == ["done"]


# --- item 9 (crawler half): URLs an operator hands the crawler are validated -------------------


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "ftp://www.hostile.lznews.cn/list.html", "file:///etc/passwd",
    "data:text/html,hi", "http:///list.html", "/list.html", "www.hostile.lznews.cn/list.html",
])
def test_listing_urls_must_be_absolute_http(url: str) -> None:
    doc = SITES.replace(f"http://{HOST}/list.html", url)
    with pytest.raises(SiteConfigError, match="absolute http"):
        parse_sites(doc, "test.yaml")


@pytest.mark.parametrize("href", [
    "ftp://www.lzbs.com.cn/lanzhounews/2024-11/23/content_506555302.htm",
    "javascript:alert('/lanzhounews/2024-11/23/content_506555302.htm')",
    "http://[www.lzbs.com.cn/lanzhounews/2024-11/23/content_506555302.htm",
])
def test_only_http_links_become_articles(href: str) -> None:
    """What a listing links becomes a seen-store entry and a Kafka key only if it is an
    absolute http(s) URL on the site."""
    from lznews_crawler.sites import load_sites

    lzbs = load_sites().by_name["lzbs"]
    assert lzbs.is_article("http://www.lzbs.com.cn/lanzhounews/2024-11/23/content_506555302.htm")
    assert not lzbs.is_article(href)  # and no ValueError out of a listing's junk


def test_the_cli_refuses_a_bad_listing_url_in_one_line(tmp_path: Path) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text(SITES.replace("http://", "ftp://"), "utf-8")
    env = {"LZNEWS_ENV_FILE": str(tmp_path / "absent.env"),
           "LZNEWS_CRAWLER_SITES_FILE": str(sites), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([str(BIN / "lznews-crawler"), "sites"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "absolute http" in proc.stderr
