"""Site list, address rules, seen-store and the mirror, without Kafka."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any

import pytest

from lznews_crawler.safety import is_public
from lznews_crawler.seenstore import DEAD, DONE, PENDING, SeenStore
from lznews_crawler.sites import (
    SiteConfigError,
    load_sites,
    owner,
    parse_host_map,
    parse_sites,
)
from lznews_devstack.mirror import MirrorServer


def test_bundled_sites_cover_the_mirror(expected: dict[str, Any]) -> None:
    sites = load_sites()
    assert {s.name for s in sites.sites} == set(expected["published"])
    for name, urls in expected["published"].items():
        site = sites.by_name[name]
        for url in urls:
            assert site.is_article(url), url
            assert site.canonical(url) == url
    assert sites.for_host("big5.news.cn").name == "xinhua_gansu"  # type: ignore[union-attr]
    assert sites.for_host("evil-lzbs.com.cn") is None  # suffix match needs a dot


def test_canonical_urls_and_dates() -> None:
    sites = load_sites()
    xinhua, china = sites.by_name["xinhua_gansu"], sites.by_name["china_com_cn"]
    gate = "http://big5.news.cn/gate/big5/www.gs.news.cn/20240403/4c1f0a9e2b8d4e57a3c6f1d2e9b07a15/c.html"
    assert xinhua.canonical(gate + "#top") == gate.replace("big5.news.cn/gate/big5/", "")
    assert china.canonical("HTTP://Gansu.China.com.cn:80/2021-03/16/content_1.htm") == (
        "http://gansu.china.com.cn/2021-03/16/content_1.htm")
    gov = sites.by_name["lanzhou_gov"]
    assert str(gov.article_date("http://www.lanzhou.gov.cn/art/2017/6/7/art_4_1.html")) == (
        "2017-06-07")
    assert gov.article_date("http://www.lanzhou.gov.cn/col/col10/art_9150.html") is None
    people = sites.by_name["people_gansu"]
    assert people.is_listing_page("http://gansu.people.com.cn/GB/183283/index2.html")
    assert not people.is_article("http://gansu.people.com.cn/GB/183283/index2.html")


def test_sharding_gives_every_site_one_owner() -> None:
    names = [s.name for s in load_sites().sites]
    for count in (1, 2, 3, 7):
        owners = [owner(n, count) for n in names]
        assert all(0 <= o < count for o in owners)
    assert len({owner(n, 2) for n in names}) == 2  # two replicas both get work
    # Rendezvous hashing: growing from 2 to 3 replicas only moves sites to the new one.
    assert all(owner(n, 3) in (owner(n, 2), 2) for n in names)


@pytest.mark.parametrize(("doc", "message"), [
    ("sites: [{name: a, allowed_domains: [a.cn], listing_urls: ['http://b.cn/'], "
     "article_patterns: ['x']}]", "outside allowed_domains"),
    ("sites: [{name: a, allowed_domains: [a.cn], listing_urls: ['http://a.cn/'], "
     "article_patterns: ['x'], intervall_s: 5}]", "unknown keys"),
    ("sites: [{name: a, allowed_domains: [a.cn], listing_urls: ['http://a.cn/'], "
     "article_patterns: ['(']}]", "bad regular expression"),
    ("sites: [{name: A B}]", "name must be"),
    ("- just a list", "'sites' list"),
])
def test_bad_site_lists_are_refused(doc: str, message: str) -> None:
    with pytest.raises(SiteConfigError, match=message):
        parse_sites(doc, "test.yaml")


def test_host_map() -> None:
    assert parse_host_map("*=127.0.0.1:8088, www.lzbs.com.cn=[::1]:9") == {
        "*": ("127.0.0.1", 8088), "www.lzbs.com.cn": ("::1", 9)}
    with pytest.raises(SiteConfigError):
        parse_host_map("www.lzbs.com.cn")


@pytest.mark.parametrize(("address", "public"), [
    ("127.0.0.1", False), ("127.8.9.1", False), ("10.1.2.3", False), ("172.16.0.1", False),
    ("192.168.1.1", False), ("169.254.169.254", False), ("100.64.0.1", False),
    ("0.0.0.0", False), ("224.0.0.1", False), ("::1", False), ("fe80::1%eth0", False),
    ("fc00::1", False), ("::ffff:10.0.0.1", False), ("::ffff:127.0.0.1", False),
    ("202.100.64.68", True), ("2400:da00::6666", True),
])
def test_address_rule(address: str, public: bool) -> None:
    # Classification only: nothing here connects anywhere.
    assert is_public(address) is public


def test_seen_store_survives_restart(tmp_path: Path) -> None:
    store = SeenStore(tmp_path)
    assert store.add_pending("lzbs", "http://a/1", "http://a/1#x")
    assert not store.add_pending("lzbs", "http://a/1", "http://a/1")
    store.add_pending("lzbs", "http://a/2", "http://a/2")
    assert store.record_failure("lzbs", "http://a/2") == 1
    store.mark_done("lzbs", "http://a/1", "http://a/1-alias")
    store.set_validators("lzbs", "http://a/", '"e1"', "Wed, 20 Nov 2024 00:00:00 GMT")
    store.close()

    again = SeenStore(tmp_path)
    again.open_sites(["lzbs"])
    assert again.size == 3
    assert again.state("lzbs", "http://a/1") == DONE
    assert again.state("lzbs", "http://a/1-alias") == DONE
    assert [(p.url, p.attempts) for p in again.pending("lzbs")] == [("http://a/2", 1)]
    again.mark_dead("lzbs", "http://a/2", "http_404")
    assert again.state("lzbs", "http://a/2") == DEAD
    assert again.pending("lzbs") == []
    assert again.validators("lzbs", "http://a/") == ('"e1"', "Wed, 20 Nov 2024 00:00:00 GMT")
    assert again.state("other", "http://a/1") is None and PENDING == "pending"


def _get(port: int, target: str, **headers: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", target, headers=headers)
    resp = conn.getresponse()
    resp.read()
    return resp


def test_mirror_serves_virtual_hosts(mirror: MirrorServer) -> None:
    page = "http://www.lzbs.com.cn/lanzhounews/2025-04/10/content_506555247.htm"
    first = _get(mirror.port, page)  # proxy form, as the crawler's host map sends it
    assert first.status == 200 and first.headers["Content-Type"] == "text/html; charset=utf-8"
    etag = first.headers["ETag"]
    assert _get(mirror.port, page, **{"If-None-Match": etag}).status == 304
    by_host = _get(mirror.port, "/robots.txt", Host="www.lzbs.com.cn")
    assert by_host.status == 200
    assert _get(mirror.port, "http://ads.example.net/landing.htm").status == 404
    gbk = _get(mirror.port, "http://www.lanzhou.gov.cn/col/col10/art_9150.html")
    assert gbk.status == 200 and gbk.headers["Content-Type"] is None
    redirect = _get(mirror.port,
                    "http://www.lzbs.com.cn/lanzhounews/2024-11/23/content_506555303.htm")
    assert redirect.status == 302
    assert redirect.headers["Location"] == "http://ads.example.net/landing.htm"


def test_mirror_pages_are_constructed_and_encoded() -> None:
    from crawlhelp import MIRROR

    routes = json.loads((MIRROR / "routes.json").read_text("utf-8"))["routes"]
    pages = [p for p in (MIRROR / "sites").rglob("*") if p.is_file()]
    pages += [(MIRROR / r["from"]).resolve() for r in routes if "from" in r]
    for page in pages:
        data = page.read_bytes()
        if page.name == "robots.txt":
            assert data.startswith(b"# constructed")
        else:
            assert b"CONSTRUCTED" in data, page
    gate = next(p for p in pages if "20241121" in str(p))
    text = gate.read_bytes()
    assert b"&#21894;" in text  # 喆 is not in Big5: a numeric reference
    assert "蘭州市舉辦黃河文化旅遊節" in text.decode("big5")
