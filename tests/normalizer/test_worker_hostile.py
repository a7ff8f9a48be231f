"""Hostile input through the real `lznews-normalizer` worker on the session's broker: pages over
their budget, records at the topic's size limit, keys that are not URLs, dead letters Kafka
refuses, and an agent that crashes on every table write. Inputs are generated here."""

from __future__ import annotations

import hashlib
import random
import urllib.request
from pathlib import Path

import pytest
from kafka.admin import NewTopic

from lznews_common import kafka
from lznews_common.models import Article, DeadLetter, RawPage
from lznews_common.settings import Settings
from lznews_common.topics import ARTICLES, DEAD_LETTERS, RAW_PAGES, prepare_topics
from lznews_devstack.processes import free_port
from tests.normalizer.test_worker_integration import PAGES, raw_page
from tests.support import health, read_topic, start_service, stop_service, wait_for

pytestmark = pytest.mark.integration

GROUP = "lznews-normalizer"
# Just under raw-pages' max.message.bytes (16 MiB), with room for the record's framing.
NEAR_LIMIT = (16 << 20) - 4096


def _send(settings: Settings, records: list[tuple[bytes | None, bytes]]) -> None:
    producer = kafka.producer(settings, linger_ms=0)
    for key, value in records:
        # One partition: the order of the records is the order of their outcomes.
        producer.send(settings.topic(RAW_PAGES), key=key, value=value, partition=0)
    producer.flush(60)
    producer.close()


def _page(file: str = "001_lzbs.html") -> tuple[bytes, bytes]:
    page = raw_page(file)
    return page.url.encode(), page.to_bytes()


def _committed(settings: Settings) -> int | None:
    got = kafka.committed_offsets(settings, settings.topic(GROUP))
    return next((off for tp, off in got.items() if tp.partition == 0), None)


def _start(settings: Settings, tmp_path: Path, name: str, **extra: object) -> tuple[object, int]:
    port = free_port()
    proc = start_service("lznews-normalizer", settings, tmp_path / f"{name}.log",
                         normalizer_metrics_port=port, normalizer_data_dir=tmp_path / name,
                         **extra)
    return proc, port


def test_over_budget_pages_are_dead_lettered_and_the_worker_goes_on(
        settings: Settings, tmp_path: Path) -> None:
    prepare_topics(settings)
    # A budget no page can meet: every page is stopped in its child process and dead-lettered
    # as `timeout`, and each next page still gets its turn (the child is replaced each time).
    _send(settings, [_page("001_lzbs.html"), _page("003_lzbs.html")])
    proc, port = _start(settings, tmp_path, "w", normalizer_page_timeout_s=0.001)
    try:
        letters = read_topic(settings, DEAD_LETTERS, 2, timeout_s=90)
        parsed = [DeadLetter.parse(r.value) for r in letters]
        assert [(d.stage, d.error_type) for d in parsed] == [("normalize", "timeout")] * 2
        assert "time budget" in parsed[0].error
        assert health(port)["ok"]
    finally:
        stop_service(proc)


def test_health_answers_while_a_heavy_page_is_chewed(settings: Settings,
                                                      tmp_path: Path) -> None:
    prepare_topics(settings)
    # A title of 30,000 dashes (once quadratic work under the GIL: the loop froze for
    # minutes) over megabytes of ordinary paragraphs: work for the child; the loop stays free.
    para = "<p>" + "兰州市人民政府办公厅关于印发科技创新若干措施的通知，" * 4 + "</p>\n"
    body = ("<html><head><title>" + "—" * 30000 + "</title></head><body>"
            + "<h1>兰州市政府常务会议</h1>" + para * 9000 + "</body></html>").encode()
    heavy = RawPage.build(url="http://www.lzbs.com.cn/a/heavy.htm",
                          final_url="http://www.lzbs.com.cn/a/heavy.htm", site="lzbs",
                          http_status=200, body=body,
                          headers={"content-type": "text/html; charset=utf-8"}, crawl_id="t")
    proc, port = _start(settings, tmp_path, "w")
    try:
        wait_for(lambda: health(port)["assigned"], 60, "an assignment")
        _send(settings, [(heavy.url.encode(), heavy.to_bytes()), _page("001_lzbs.html")])
        answered = 0
        while not read_topic(settings, ARTICLES, 2, timeout_s=0.5, quiet_s=0.2) and answered < 400:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                assert resp.status == 200
            answered += 1
        assert len(read_topic(settings, ARTICLES, 2, timeout_s=60)) == 2
    finally:
        stop_service(proc)


def test_records_at_the_size_limit_and_bad_keys_go_to_dead_letters_as_references(
        settings: Settings, tmp_path: Path) -> None:
    prepare_topics(settings)
    rng = random.Random(14)
    junk = rng.randbytes(NEAR_LIMIT)
    huge_body = ("<html><body>" + "<p>兰州市人民政府常务会议。</p>" * 450_000 + "</body></html>"
                 ).encode()[: (NEAR_LIMIT - 8192) * 3 // 4]
    valid_huge = RawPage.build(url="http://www.lzbs.com.cn/a/huge.htm",
                               final_url="http://www.lzbs.com.cn/a/huge.htm", site="lzbs",
                               http_status=200, body=huge_body,
                               headers={"content-type": "text/html"}, crawl_id="t").to_bytes()
    assert len(valid_huge) < NEAR_LIMIT
    good_key, good_value = _page("001_lzbs.html")
    _send(settings, [(b"http://www.lzbs.com.cn/junk", junk),
                     (b"http://www.lzbs.com.cn/a/huge.htm", valid_huge),
                     (b"\xff\xfe\x00bad", good_value),
                     (b"javascript:alert(1)", good_value),
                     (good_key, good_value)])
    proc, port = _start(settings, tmp_path, "w")
    try:
        got = read_topic(settings, ARTICLES, 1, timeout_s=120)
        assert [Article.parse(r.value).url for r in got] == [PAGES["001_lzbs.html"]["url"]]
        letters = [DeadLetter.parse(r.value) for r in
                   read_topic(settings, DEAD_LETTERS, 4, timeout_s=30)]
        assert sorted(d.original_offset for d in letters) == [0, 1, 2, 3]
        by_offset = {d.original_offset: d for d in letters}
        ref = by_offset[0]
        assert ref.referenced and ref.original_size == len(junk)
        assert ref.original_sha256 == hashlib.sha256(junk).hexdigest()
        assert ref.original_head_b64 and ref.error_type == "too_large"
        assert by_offset[1].referenced and by_offset[1].original_size == len(valid_huge)
        assert [by_offset[o].error_type for o in (2, 3)] == ["InvalidKey", "InvalidKey"]
        assert by_offset[2].original_value == good_value  # small originals are still copied
        wait_for(lambda: _committed(settings) == 5, 30, "the commit past all five")
        assert health(port)["ok"]
    finally:
        stop_service(proc)


def test_a_dead_letter_kafka_refuses_halts_without_committing(settings: Settings,
                                                               tmp_path: Path) -> None:
    # The dead-letters topic takes nothing over 1 KiB: a letter carrying 3 KB of incompressible
    # junk is refused (RecordTooLarge, which no retry cures).
    admin = kafka.admin(settings)
    admin.create_topics([NewTopic(settings.topic(DEAD_LETTERS), settings.topic_partitions, 1,
                                  topic_configs={"max.message.bytes": "1024"})])
    admin.close()
    prepare_topics(settings)
    good = _page("001_lzbs.html")
    junk = b"\x00" + random.Random(3).randbytes(3000)
    _send(settings, [good, (good[0], junk), _page("003_lzbs.html")])
    proc, port = _start(settings, tmp_path, "w")
    try:
        state = wait_for(lambda: (h := health(port)).get("halted") and h, 90, "a halt")
        assert not state["ok"] and "dead letter" in state["halted"]
        assert "/0@1" in state["halted"]
        assert len(read_topic(settings, ARTICLES, 1, timeout_s=30, settle_s=3)) == 1
        # The first page is committed; nothing past the record that went nowhere.
        wait_for(lambda: _committed(settings) == 1, 30, "the commit of the first page")
    finally:
        stop_service(proc)
    assert _committed(settings) == 1


def test_health_reports_an_agent_that_crashes_on_every_table_write(
        settings: Settings, tmp_path: Path) -> None:
    # The dedup table's changelog with another partition count than raw-pages: each table
    # write fails (PartitionsMismatch) after the article was sent, and Faust restarts the agent.
    admin = kafka.admin(settings)
    admin.create_topics([NewTopic(settings.topic(f"{GROUP}-fingerprints-changelog"),
                                  settings.topic_partitions + 1, 1,
                                  topic_configs={"cleanup.policy": "compact"})])
    admin.close()
    prepare_topics(settings)
    _send(settings, [_page("001_lzbs.html")])
    proc, port = _start(settings, tmp_path, "w")
    try:
        state = wait_for(lambda: (h := health(port)).get("agent_crashed") and h, 90,
                         "the crash in /healthz")
        assert not state["ok"] and state["agent_crashes"] >= 1
        assert "Partition" in state["agent_crashed"]
    finally:
        stop_service(proc)

