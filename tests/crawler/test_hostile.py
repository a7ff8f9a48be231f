"""Hostile sites and hostile names: the crawler neither hammers, loops on, nor trusts them.

A small misbehaving site (served on 127.0.0.1 in proxy form, like the fixture mirror) answers
a 500, oversize bodies with and without Content-Length, a gzip bomb and redirects to file:,
ftp: and data:. Every hostile body is generated here; nothing large is committed.
"""

from __future__ import annotations

import asyncio
import collections
import gzip
import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from crawlhelp import BIN, CrawlerEnv, crawler_env
from scrapy.settings import Settings as ScrapySettings

from lznews_common.models import DeadLetter
from lznews_common.settings import Settings
from lznews_common.topics import DEAD_LETTERS
from lznews_crawler.config import scrapy_settings
from lznews_crawler.safety import Refused
from lznews_crawler.sites import SiteConfigError, parse_sites
from tests.support import read_topic

HOST = "www.hostile.lznews.cn"
CAP = 1 << 20  # LZNEWS_CRAWLER_MAX_PAGE_BYTES in crawler_env
SITES = f"""
defaults: {{interval_s: 2, download_delay_s: 0, concurrency: 4}}
sites:
  - name: hostile
    allowed_domains: [hostile.lznews.cn]
    listing_urls: ['http://{HOST}/list.html']
    article_patterns: ['/art/[a-z0-9_]+[.]html$']
"""


class HostileSite:
    """One virtual host; `pages` maps a path to a handler writing the whole answer."""

    def __init__(self, articles: list[str], listing_delay_s: float = 0.0) -> None:
        self.articles = articles
        self.listing_delay_s = listing_delay_s
        self.hits: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def hit(self, path: str) -> None:
        with self._lock:
            self.hits[path] += 1

    def count(self, path: str) -> int:
        with self._lock:
            return self.hits[path]

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


Writer = Callable[[BaseHTTPRequestHandler], None]


def _send(h: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
    h.send_response(status)
    for key, value in {**headers, "Content-Length": str(len(body))}.items():
        h.send_header(key, value)
    h.end_headers()
    h.wfile.write(body)


def _oversize_with_length(h: BaseHTTPRequestHandler) -> None:
    _send(h, 200, {"Content-Type": "text/html"}, b"<html>" + b"x" * (2 * CAP))


def _oversize_streamed(h: BaseHTTPRequestHandler) -> None:
    # No Content-Length: the body ends when the connection closes, so only the cap stops it.
    h.close_connection = True
    h.send_response(200)
    h.send_header("Content-Type", "text/html")
    h.send_header("Connection", "close")
    h.end_headers()
    chunk = b"<p>" + b"y" * 65533
    for _ in range(4 * CAP // len(chunk)):
        h.wfile.write(chunk)


_BOMB = gzip.compress(b"\0" * (16 * CAP), 9)  # ~16 KiB on the wire, 16 MiB unpacked


def _gzip_bomb(h: BaseHTTPRequestHandler) -> None:
    _send(h, 200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, _BOMB)


def _redirect(location: str) -> Writer:
    return lambda h: _send(h, 302, {"Location": location}, b"")


def _error(h: BaseHTTPRequestHandler) -> None:
    _send(h, 500, {"Content-Type": "text/plain"}, b"server error\n")


PAGES: dict[str, Writer] = {
    "/art/fail.html": _error,
    "/art/big_length.html": _oversize_with_length,
    "/art/big_stream.html": _oversize_streamed,
    "/art/bomb.html": _gzip_bomb,
    "/art/to_file.html": _redirect("file:///etc/passwd"),
    "/art/to_ftp.html": _redirect("ftp://ftp.hostile.lznews.cn/pub/x.html"),
    "/art/to_data.html": _redirect("data:text/html,<p>hi</p>"),
}


def _handler(site: HostileSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            path = urlsplit(self.path).path
            site.hit(path)
            try:
                if path == "/list.html":
                    time.sleep(site.listing_delay_s)
                    links = "".join(f'<a href="{a}">{a}</a>' for a in site.articles)
                    _send(self, 200, {"Content-Type": "text/html; charset=utf-8"},
                          f"<html><body>{links}</body></html>".encode())
                elif path in PAGES:
                    PAGES[path](self)
                else:
                    _send(self, 404, {"Content-Type": "text/plain"}, b"no\n")
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the crawler hung up (the size cap)

        def log_message(self, fmt: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def hostile_site() -> Iterator[Callable[..., HostileSite]]:
    started: list[HostileSite] = []

    def start(articles: list[str], listing_delay_s: float = 0.0) -> HostileSite:
        started.append(HostileSite(articles, listing_delay_s))
        return started[-1]

    yield start
    for site in started:
        site.stop()


def _env(settings: Settings, site: HostileSite, tmp: Path, **extra: Any) -> CrawlerEnv:
    sites = tmp / "hostile-sites.yaml"
    sites.write_text(SITES, "utf-8")
    return crawler_env(settings, site, tmp, LZNEWS_CRAWLER_SITES_FILE=sites,  # type: ignore[arg-type]
                       LZNEWS_CRAWLER_RETRIES=0, **extra)


def _run(crawler: CrawlerEnv, log: Path) -> dict[str, Any]:
    """crawl --once to completion, keeping its log (the summary is its last line)."""
    proc = crawler.start("crawl", "--once", log=log)
    assert proc.wait(timeout=90) == 0, log.read_text()[-4000:]
    return json.loads(log.read_text().strip().splitlines()[-1])


def _letters(settings: Settings, want: int) -> dict[str, DeadLetter]:
    return {r.key.decode(): DeadLetter.parse(r.value)
            for r in read_topic(settings, DEAD_LETTERS, want=want, settle_s=1)}


# --- item 6: one fetch per visit ---------------------------------------------------------------


@pytest.mark.integration
def test_a_failing_article_is_fetched_once_per_visit_until_dead_lettered(
    settings: Settings, hostile_site: Callable[..., HostileSite], tmp_path: Path
) -> None:
    """The article fails fast while the listing is slow, so the pending re-queue has failed
    before the listing links the article again: still one request per visit, and
    MAX_ATTEMPTS visits (not fewer) before the dead letter."""
    site = hostile_site(["/art/fail.html"], listing_delay_s=0.5)
    crawler = _env(settings, site, tmp_path, LZNEWS_CRAWLER_MAX_ATTEMPTS=3)
    per_visit, dead = [], []
    for visit in range(4):
        before = site.count("/art/fail.html")
        _run(crawler, tmp_path / f"visit{visit}.log")
        per_visit.append(site.count("/art/fail.html") - before)
        dead.append(len(read_topic(settings, DEAD_LETTERS, timeout_s=3, quiet_s=1)))
    assert per_visit == [1, 1, 1, 0]
    assert dead == [0, 0, 1, 1]  # dead-lettered by the third failed visit, and only once
    letter = _letters(settings, 1)[f"http://{HOST}/art/fail.html"]
    assert letter.error_type == "http_500_gave_up"


# --- item 7: permanent failure kinds -----------------------------------------------------------


@pytest.mark.integration
def test_oversize_bombs_and_odd_redirects_are_permanent_with_a_reason(
    settings: Settings, hostile_site: Callable[..., HostileSite], tmp_path: Path
) -> None:
    kinds = {
        "/art/big_length.html": "too_large", "/art/big_stream.html": "too_large",
        "/art/bomb.html": "too_large", "/art/to_file.html": "scheme",
        "/art/to_ftp.html": "scheme", "/art/to_data.html": "scheme",
    }
    site = hostile_site(list(kinds))
    crawler = _env(settings, site, tmp_path, LZNEWS_CRAWLER_MAX_ATTEMPTS=3)
    first = _run(crawler, tmp_path / "first.log")
    letters = _letters(settings, len(kinds))
    assert {k: v.error_type for k, v in letters.items()} == {
        f"http://{HOST}{path}": kind for path, kind in kinds.items()}
    for letter in letters.values():  # "<url>: <why>", the why not empty
        assert letter.error.split(": ", 1)[1].strip(), letter
    assert first["refused/scheme"] == 3
    log = (tmp_path / "first.log").read_text()
    assert "failed ()" not in log
    assert "too_large" in log

    # Dead at once: a later visit requests none of them again.
    before = {path: site.count(path) for path in kinds}
    _run(crawler, tmp_path / "second.log")
    assert {path: site.count(path) for path in kinds} == before


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


@pytest.mark.integration
def test_an_unresolvable_name_is_refused_before_the_downloader(
    settings: Settings, hostile_site: Callable[..., HostileSite], tmp_path: Path
) -> None:
    site = hostile_site([])
    crawler = _env(settings, site, tmp_path, LZNEWS_CRAWLER_HOST_MAP="",
                   LZNEWS_CRAWLER_ALLOW_PRIVATE="false")
    (tmp_path / "hostile-sites.yaml").write_text(
        SITES.replace("hostile.lznews.cn", "hostile.lznews.invalid"), "utf-8")
    summary = _run(crawler, tmp_path / "crawl.log")
    assert summary["refused/dns"] >= 1  # the listing
    assert summary["pages"] == 0


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
