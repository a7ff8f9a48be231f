"""The real `lznews-crawler` command against the fixture mirror and the real Tansu broker."""

from __future__ import annotations

import collections
import json
import signal
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from crawlhelp import crawler_env

from lznews_common.models import DeadLetter, RawPage
from lznews_common.settings import Settings
from lznews_common.topics import DEAD_LETTERS, RAW_PAGES
from lznews_devstack.mirror import MirrorServer, add_article
from tests.support import metric_sum, read_topic, wait_for

pytestmark = pytest.mark.integration


def _all(expected: dict[str, Any]) -> set[str]:
    return {u for urls in expected["published"].values() for u in urls}


def _keys(records: list[Any]) -> list[str]:
    return [r.key.decode() for r in records]


def test_crawl_publishes_the_expected_set_then_nothing_new(
    settings: Settings, mirror: MirrorServer, expected: dict[str, Any], tmp_path: Path
) -> None:
    crawler = crawler_env(settings, mirror, tmp_path)
    first = crawler.run("crawl", "--once")
    want = _all(expected)
    records = read_topic(settings, RAW_PAGES, want=len(want))
    keys = _keys(records)
    assert sorted(keys) == sorted(want)  # exactly the set, each once
    assert first["published"] == len(want)

    sites = {u: s for s, urls in expected["published"].items() for u in urls}
    for record in records:
        page = RawPage.parse(record.value)
        assert page.site == sites[record.key.decode()]
        assert page.http_status == 200 and page.crawl_id == first["crawl_id"]
        host, _, path = page.final_url.split("://", 1)[1].partition("/")
        served = mirror.source(host, "/" + path).read_bytes()
        assert page.body == served  # raw bytes, undecoded (GBK, Big5 and all)
    by_key = {r.key.decode(): RawPage.parse(r.value) for r in records}
    moved = by_key["http://www.lzbs.com.cn/lanzhounews/2024-11/23/content_506555302.htm"]
    assert moved.url.endswith("content_506555301.htm")  # followed an in-domain redirect
    gbk = by_key["http://www.lanzhou.gov.cn/col/col10/art_9150.html"]
    assert gbk.headers.content_type is None  # what the server sent, nothing invented
    big5 = by_key["http://www.gs.news.cn/20241121/9a8b7c6d5e4f40312a1b2c3d4e5f6a7b/c.html"]
    assert big5.url.startswith("http://big5.news.cn/gate/big5/")

    letters = {r.key.decode(): DeadLetter.parse(r.value)
               for r in read_topic(settings, DEAD_LETTERS, want=len(expected["dead_letters"]))}
    assert {k: v.error_type for k, v in letters.items()} == expected["dead_letters"]
    assert letters[next(k for k in letters if "404" in k)].original_value  # the 404 body

    # Rules: robots.txt obeyed, nothing off-domain requested, transient failures not final.
    requested = {f"http://{h.host}{h.path}" for h in mirror.requested()}
    assert not requested & set(expected["never_requested"])
    assert all(h.user_agent.startswith("lznews-crawler/") for h in mirror.requested())
    assert first["refused/offsite_redirect"] == 1

    # A second visit: listings answer 304, nothing is fetched or published again.
    before = len(mirror.requested())
    second = crawler.run("crawl", "--once")
    assert second.get("published", 0) == 0
    assert second["listing_not_modified"] >= len(expected["published"])
    again = [h for h in mirror.requested()[before:] if h.path != "/robots.txt"]
    article_hits = {f"http://{h.host}{h.path}" for h in again if h.status == 200}
    assert not article_hits & want, "a published article was fetched again"
    assert {f"http://{h.host}{h.path}" for h in again if h.status not in (200, 304)} <= set(
        expected["transient"])  # only the pending 500/slow pages are retried
    assert len(read_topic(settings, RAW_PAGES, want=len(want) + 1, timeout_s=4)) == len(want)


def test_a_walk_cut_short_is_walked_again_despite_304(
    settings: Settings, mirror: MirrorServer, expected: dict[str, Any], tmp_path: Path
) -> None:
    """Page two of a listing fails on the first visit (as if the crawler died there): page
    one's validators must not be kept, or the next visit stops at its 304 and the articles
    only page two links to are never discovered."""
    host, page_two = "www.lanzhou.gov.cn", "/col/col4/index_2.html"
    only_there = "http://www.lanzhou.gov.cn/art/2023/3/1/art_4_390001.html"
    crawler = crawler_env(settings, mirror, tmp_path)
    mirror.unavailable.add((host, page_two))
    crawler.run("crawl", "--once")
    assert only_there not in _keys(read_topic(settings, RAW_PAGES, settle_s=1))
    mirror.unavailable.clear()
    before = len(mirror.requested())
    crawler.run("crawl", "--once")
    assert only_there in _keys(read_topic(settings, RAW_PAGES, want=len(_all(expected))))
    second = [h for h in mirror.requested()[before:] if h.host == host]
    assert [h.status for h in second if h.path == "/col/col4/index.html"] == [200]
    # Once a walk completes, its pages answer 304 again: nothing is re-read needlessly.
    before = len(mirror.requested())
    crawler.run("crawl", "--once")
    third = [h for h in mirror.requested()[before:] if h.host == host]
    assert [h.status for h in third if h.path == "/col/col4/index.html"] == [304]


def test_continuous_mode_picks_up_a_new_article(
    settings: Settings, mirror: MirrorServer, expected: dict[str, Any], tmp_path: Path
) -> None:
    crawler = crawler_env(settings, mirror, tmp_path)
    proc = crawler.start("crawl", log=tmp_path / "crawler.log")
    try:
        want = _all(expected)
        wait_for(lambda: metric_sum(crawler.metrics(), "lznews_crawler_published_total")
                 >= len(want), 60, "the first visit")
        new = "http://www.lzbs.com.cn/lanzhounews/2024-11/24/content_506555777.htm"
        add_article(mirror.root, "www.lzbs.com.cn", "/lanzhounews/node_3321.htm",
                    "/lanzhounews/2024-11/24/content_506555777.htm", "新稿件",
                    "<!-- CONSTRUCTED --><html><body>新稿件</body></html>".encode())
        records = read_topic(settings, RAW_PAGES, want=len(want) + 1, timeout_s=30)
        assert sorted(_keys(records)) == sorted(want | {new})

        text = crawler.metrics()
        assert metric_sum(text, "lznews_crawler_pages_fetched_total", site="lzbs",
                          kind="article", status="200") >= 7
        assert metric_sum(text, "lznews_crawler_pages_fetched_total", kind="listing",
                          status="304") >= 1
        assert metric_sum(text, "lznews_crawler_bytes_fetched_total", site="people_gansu") > 0
        assert metric_sum(text, "lznews_crawler_publish_latency_seconds_count") >= len(want)
        assert metric_sum(text, "lznews_crawler_seen_urls") >= len(want) + 1
        for site in expected["published"]:
            assert metric_sum(text, "lznews_crawler_last_listing_success_timestamp_seconds",
                              site=site) > 0
        assert metric_sum(text, "lznews_crawler_requests_refused_total",
                          reason="offsite_redirect") == 1
        assert metric_sum(text, "lznews_dead_letters_total", service="crawler") == len(
            expected["dead_letters"])
        url = f"http://127.0.0.1:{crawler.metrics_port}/healthz"
        with urllib.request.urlopen(url, timeout=5) as resp:
            health = json.load(resp)
        assert health["ok"] and health["mode"] == "continuous"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, (tmp_path / "crawler.log").read_text()[-3000:]


def test_private_addresses_are_refused_unless_allowed(
    settings: Settings, mirror: MirrorServer, tmp_path: Path
) -> None:
    # The host map points every site at 127.0.0.1: with the default rule nothing may go there.
    crawler = crawler_env(settings, mirror, tmp_path, LZNEWS_CRAWLER_ALLOW_PRIVATE="false")
    summary = crawler.run("crawl", "--once")
    assert summary["refused/private_address"] >= 7  # every listing URL
    assert summary.get("published", 0) == 0 and summary["pages"] == 0
    assert mirror.requested() == []  # not even robots.txt


def test_two_replicas_share_the_sites_without_fetching_twice(
    settings: Settings, mirror: MirrorServer, expected: dict[str, Any], tmp_path: Path
) -> None:
    replicas = []
    for i in range(2):
        (tmp_path / str(i)).mkdir()
        env = crawler_env(settings, mirror, tmp_path / str(i), LZNEWS_CRAWLER_REPLICA_INDEX=i,
                          LZNEWS_CRAWLER_REPLICA_COUNT=2)
        replicas.append(env.start("crawl", "--once", log=tmp_path / f"replica{i}.log"))
    for i, proc in enumerate(replicas):
        assert proc.wait(timeout=90) == 0, (tmp_path / f"replica{i}.log").read_text()[-3000:]
    summaries = [json.loads((tmp_path / f"replica{i}.log").read_text().strip().splitlines()[-1])
                 for i in range(2)]
    owned = [set(s["sites"]) for s in summaries]
    assert owned[0] and owned[1] and not owned[0] & owned[1]
    assert owned[0] | owned[1] == set(expected["published"])

    want = _all(expected)
    records = read_topic(settings, RAW_PAGES, want=len(want))
    assert sorted(_keys(records)) == sorted(want)
    fetches = collections.Counter(f"http://{h.host}{h.path}" for h in mirror.requested()
                                  if h.status == 200 and h.path != "/robots.txt")
    twice = {url: n for url, n in fetches.items() if n > 1}
    assert not twice, f"fetched more than once: {twice}"


def test_backfill_since_a_date_with_a_page_cap(
    settings: Settings, mirror: MirrorServer, expected: dict[str, Any], tmp_path: Path
) -> None:
    crawler = crawler_env(settings, mirror, tmp_path)
    summary = crawler.run("backfill", "--since", "2024-01-01", "--max-pages", "1")
    # Dated 2024 or later (or undated), and on the first listing page of their site.
    on_later_pages = {
        "http://www.lzbs.com.cn/lanzhounews/2024-10/08/content_506400001.htm",
        "http://gansu.people.com.cn/n2/2024/1018/c183283-40000501.html",
    }
    sites = __import__("lznews_crawler.sites", fromlist=["load_sites"]).load_sites()
    want = set()
    for name, urls in expected["published"].items():
        for url in urls:
            day = sites.by_name[name].article_date(url)
            if (day is None or day.year >= 2024) and url not in on_later_pages:
                want.add(url)
    records = read_topic(settings, RAW_PAGES, want=len(want))
    assert sorted(_keys(records)) == sorted(want)
    assert summary["published"] == len(want)
    requested = {h.path for h in mirror.requested()}
    assert "/lanzhounews/node_3321_2.htm" not in requested
    assert "/lanzhounews/2019-01/05/content_500000001.htm" not in requested
