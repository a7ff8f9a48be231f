"""raw-pages -> articles through real Faust workers (the `lznews-normalizer` command) on the
session's broker (Apache Kafka, or Tansu without a JVM)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from lznews_common import kafka
from lznews_common.models import Article, DeadLetter, RawPage
from lznews_common.settings import Settings
from lznews_common.topics import ARTICLES, DEAD_LETTERS, RAW_PAGES, prepare_topics
from lznews_devstack.processes import free_port
from lznews_devstack.stack import LocalStack
from tests.support import health, metric_value, read_topic, start_service, stop_service, wait_for

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "articles"
PAGES = {p["file"]: p for p in json.loads((FIXTURES / "manifest.json").read_text())["pages"]}

pytestmark = pytest.mark.integration


def raw_page(file: str, url: str | None = None, body: bytes | None = None) -> RawPage:
    page = PAGES[file]
    return RawPage.build(url=url or page["url"], final_url=url or page["url"], site=page["site"],
                         http_status=200, body=body or (FIXTURES / file).read_bytes(),
                         headers={"content-type": page["content_type"]}, crawl_id="test")


def publish(settings: Settings, pages: list[RawPage | bytes], transactional: bool = False) -> None:
    """To raw-pages; transactional: each page in its own transaction, so that a commit marker
    follows every record (as a transactional upstream producer's would)."""
    cfg = ({"transactional_id": f"test-{uuid.uuid4().hex[:8]}", "enable_idempotence": True}
           if transactional else {})
    producer = kafka.producer(settings, **cfg)
    if transactional:
        producer.init_transactions()
    for page in pages:
        if transactional:
            producer.begin_transaction()
        if isinstance(page, RawPage):
            producer.send(settings.topic(RAW_PAGES), key=page.url.encode(), value=page.to_bytes())
        else:
            producer.send(settings.topic(RAW_PAGES), key=b"poison", value=page)
        if transactional:
            producer.commit_transaction()
    producer.flush(30)
    producer.close()


def test_worker_emits_clean_articles_dedups_and_dead_letters(settings: Settings,
                                                              tmp_path: Path) -> None:
    prepare_topics(settings)
    changed_003 = (FIXTURES / "003_lzbs.html").read_bytes().replace(
        "近日".encode(), "本月初".encode(), 1)
    first_wave = [raw_page(f) for f in PAGES] + [b"\xff\x00 not json at all"]
    publish(settings, first_wave)
    port = free_port()
    worker = start_service("lznews-normalizer", settings, tmp_path / "worker.log",
                           normalizer_metrics_port=port, normalizer_data_dir=tmp_path / "data")
    try:
        articles = PAGES.keys() - {"007_lzbs_listing.html"}
        # 000 and 005 are the same story (traditional on one site, simplified on another): one
        # of them is emitted, the other counted as a duplicate.
        expected = len(articles) - 1
        got = read_topic(settings, ARTICLES, lambda r: len(r) >= expected, settle_s=3)
        emitted = [Article.parse(r.value) for r in got]
        assert len(emitted) == expected, [a.url for a in emitted]
        by_url = {a.url: a for a in emitted}
        dup_pair = {PAGES["000_people_gansu.html"]["url"],
                    PAGES["005_lanzhou_gov_reprint_of_000.html"]["url"]}
        assert len(dup_pair & by_url.keys()) == 1
        assert all(r.key == a.id.encode() for r, a in zip(got, emitted, strict=True))
        seed_003 = by_url[PAGES["003_lzbs.html"]["url"]]
        assert "蘭" not in seed_003.title and "兰州" in seed_003.title
        assert seed_003.original_script == "hant"

        letters = read_topic(settings, DEAD_LETTERS, lambda r: len(r) >= 2, settle_s=1)
        stages = sorted(DeadLetter.parse(r.value).stage for r in letters)
        assert stages == ["extract", "schema"], stages
        assert metric_value(port, "lznews_dead_letters_total", service="normalizer",
                            stage="schema") == 1
        assert metric_value(port, "lznews_normalizer_duplicates_total") >= 1

        # Second wave: an unchanged re-fetch is not emitted again; a changed article is.
        publish(settings, [raw_page("001_lzbs.html"),
                           raw_page("003_lzbs.html", body=changed_003)])
        got = read_topic(settings, ARTICLES, lambda r: len(r) >= expected + 1, settle_s=4)
        assert len(got) == expected + 1
        versions = [a for a in map(Article.parse, (r.value for r in got)) if a.id == seed_003.id]
        assert len(versions) == 2 and "本月初" in versions[-1].body
        assert metric_value(port, "lznews_normalizer_duplicates_total", kind="unchanged") == 1
    finally:
        stop_service(worker)


def test_two_workers_split_the_partitions(settings: Settings, tmp_path: Path) -> None:
    prepare_topics(settings)
    ports = [free_port(), free_port()]
    workers = [start_service("lznews-normalizer", settings, tmp_path / f"w{i}.log",
                             normalizer_metrics_port=port,
                             normalizer_data_dir=tmp_path / f"data{i}")
               for i, port in enumerate(ports)]
    try:
        def split() -> list[set[str]] | None:
            assigned = [set(health(p)["assigned"]) for p in ports]
            raw_tps = [{tp for tp in a if RAW_PAGES in tp} for a in assigned]
            return raw_tps if all(raw_tps) and sum(map(len, raw_tps)) == \
                settings.topic_partitions else None

        parts = wait_for(split, 90, "both workers to own raw-pages partitions")
        assert not parts[0] & parts[1]
        pages = [raw_page(f) for f in PAGES if f != "005_lanzhou_gov_reprint_of_000.html"]
        publish(settings, pages)
        expected = len(pages) - 1  # the listing page is not an article
        got = read_topic(settings, ARTICLES, lambda r: len(r) >= expected, settle_s=3)
        assert len({r.key for r in got}) == expected == len(got)
        counts = [metric_value(p, "lznews_normalizer_pages_in_total") for p in ports]
        assert sum(counts) == len(pages)
    finally:
        for worker in workers:
            stop_service(worker)


def test_transaction_markers_in_the_input_lose_nothing(settings: Settings, stack: LocalStack,
                                                       tmp_path: Path) -> None:
    """Offsets a transactional producer's commit markers take are jumps the worker must pass
    (the gap guard checks them with the broker), not dropped records to wait for."""
    if stack.kafka_kind != "apache":
        pytest.skip("Tansu has no working transactions (LOCAL-STACK.md)")
    prepare_topics(settings)
    pages = [raw_page(f) for f in PAGES if f not in ("005_lanzhou_gov_reprint_of_000.html",
                                                     "007_lzbs_listing.html")]
    publish(settings, pages, transactional=True)
    port = free_port()
    worker = start_service("lznews-normalizer", settings, tmp_path / "worker.log",
                           normalizer_metrics_port=port, normalizer_data_dir=tmp_path / "data")
    try:
        got = read_topic(settings, ARTICLES, lambda r: len(r) >= len(pages), settle_s=2)
        assert sorted(Article.parse(r.value).url for r in got) == sorted(p.url for p in pages)
        assert metric_value(port, "lznews_normalizer_input_gaps_total") == 0
    finally:
        stop_service(worker)
