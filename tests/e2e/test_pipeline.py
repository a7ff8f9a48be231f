"""End to end: fixture mirror -> crawler -> Kafka -> normaliser -> indexer -> osmem, every service
as its real command in its own process, and the failure drills of the main job. The broker is
the session's: Apache Kafka, or Tansu where no JVM is installed.

Every drill asserts the same outcome as the clean run: each expected article is searchable once
(nothing lost, nothing duplicated). Broker restarts are not drilled here (Tansu's memory storage
loses its data on restart); the crawler's outage test covers client reconnects.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fixtures import synthetic
from lznews_common import kafka
from lznews_common.models import Article, DeadLetter
from lznews_common.search import es_client
from lznews_common.settings import Settings
from lznews_common.topics import ARTICLES, DEAD_LETTERS, RAW_PAGES
from lznews_devstack.mirror import MirrorServer
from lznews_devstack.processes import die_with_parent, free_port
from lznews_devstack.server import Server
from lznews_devstack.stack import LocalStack
from tests.crawler.crawlhelp import fast_sites
from tests.support import (
    BIN,
    health,
    metric_value,
    private_settings,
    read_topic,
    service_env,
    stop_service,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]
MIRROR = ROOT / "fixtures" / "mirror"
EXPECTED = json.loads((MIRROR / "expected.json").read_text())
PUBLISHED = {u for urls in EXPECTED["published"].values() for u in urls}
# The simplified reprint of seed 000 on lanzhou.gov.cn: one of the pair is a near duplicate.
DUP_PAIR = {"http://gansu.people.com.cn/n2/2020/0522/c183283-34036977.html",
            "http://www.lanzhou.gov.cn/art/2020/5/22/art_4_183744.html"}

pytestmark = pytest.mark.integration


@dataclass
class Pipeline:
    settings: Settings
    tmp: Path
    mirror: MirrorServer
    extra: dict[str, object] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    COMMANDS = {"crawler": ["lznews-crawler", "crawl"], "normalizer": ["lznews-normalizer"],
                "indexer": ["lznews-indexer"]}

    def env(self, name: str) -> dict[str, str]:
        port = self.ports.setdefault(name, free_port())
        return service_env(
            self.settings,
            es_url=self.settings.es_url, es_alias=self.settings.es_alias,
            topic_partitions=self.settings.topic_partitions,
            crawler_sites_file=fast_sites(self.tmp / "sites.yaml", interval_s=3.0),
            crawler_state_dir=self.tmp / "crawler",
            crawler_host_map=f"*=127.0.0.1:{self.mirror.port}", crawler_allow_private="true",
            crawler_autothrottle="false", crawler_timeout_s=2, crawler_max_page_bytes=1 << 20,
            normalizer_data_dir=self.tmp / "normalizer", normalizer_stall_s=20,
            indexer_bulk_max_wait_s=0.5, indexer_retry_initial_s=0.2, indexer_retry_max_s=2,
            indexer_index_check_s=1, indexer_index_replicas=0,
            metrics_host="127.0.0.1", metrics_port=port, **self.extra,
        )

    def start(self, name: str) -> None:
        cmd, *args = self.COMMANDS[name]
        with open(self.tmp / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen([str(BIN / cmd), *args], stdout=log,
                                                stderr=subprocess.STDOUT, env=self.env(name),
                                                start_new_session=True,
                                                preexec_fn=die_with_parent)

    def revive(self) -> None:
        """What a supervisor does: start again a service that exited (a stalled normaliser
        exits on purpose; see lznews_normalizer.stall)."""
        for name, proc in list(self.procs.items()):
            if proc.poll() is not None:
                self.start(name)

    def kill9(self, name: str) -> None:
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def metric(self, name: str, metric: str, **labels: str) -> float:
        return metric_value(self.ports[name], metric, **labels)

    def stop(self) -> None:
        for proc in self.procs.values():
            stop_service(proc)

    def docs(self) -> list[dict[str, Any]]:
        es = es_client(self.settings)
        es.indices.refresh(index=self.settings.es_alias)
        hits = es.search(index=self.settings.es_alias, size=1000,
                         query={"match_all": {}})["hits"]["hits"]
        return [h["_source"] | {"_id": h["_id"]} for h in hits]

    def wait_indexed(self, urls: set[str], timeout_s: float = 150,
                     near_copies: int = 1) -> list[dict[str, Any]]:
        """Until the index holds one document for each URL, and `near_copies` of the pair of
        near duplicates (2 where the broker may have cut the normaliser's dedup state short)."""
        state: dict[str, Any] = {}

        def done() -> list[dict[str, Any]] | None:
            self.revive()
            docs = self.docs()
            have = {d["canonical_url"] for d in docs}
            state["missing"] = sorted(urls - DUP_PAIR - have)
            pair = len(have & DUP_PAIR)
            return docs if not state["missing"] and 1 <= pair <= near_copies else None
        try:
            return wait_for(done, timeout_s, f"{len(urls)} articles in the index")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; missing {state.get('missing')}; "
                                 f"{self.trail(state.get('missing') or [])}; "
                                 f"logs in {self.tmp}") from None

    def trail(self, urls: list[str]) -> str:
        """Where the missing articles are on `articles`, against the indexer's commits."""
        where: dict[str, list[str]] = {u: [] for u in urls}
        for r in read_topic(self.settings, ARTICLES, timeout_s=20):
            try:
                url = Article.parse(r.value).canonical_url
            except Exception:  # poison records of the poison drill
                continue
            if url in where:
                where[url].append(f"p{r.partition}@{r.offset}")
        group = f"{self.settings.topic_prefix}{self.settings.indexer_group_id}"
        committed = {f"p{tp.partition}": offset for tp, offset in
                     kafka.committed_offsets(self.settings, group).items()}
        return f"on articles at {where}; indexer committed {committed}"


@pytest.fixture
def mirror() -> Iterator[MirrorServer]:
    server = MirrorServer(MIRROR)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def e2e_settings(settings: Settings) -> Settings:
    return private_settings(settings, partitions=3)


@pytest.fixture
def pipeline(e2e_settings: Settings, tmp_path: Path, mirror: MirrorServer) -> Iterator[Pipeline]:
    p = Pipeline(e2e_settings, tmp_path, mirror)
    yield p
    p.stop()


def assert_complete(docs: list[dict[str, Any]], near_copies: int = 1) -> None:
    urls = [d["canonical_url"] for d in docs]
    assert len(urls) == len(set(urls)), "an article is indexed twice"
    assert {d["_id"] for d in docs} == {d["id"] for d in docs}
    assert set(urls) <= PUBLISHED
    assert set(urls) - DUP_PAIR == PUBLISHED - DUP_PAIR
    assert 1 <= len(set(urls) & DUP_PAIR) <= near_copies


def test_fixture_sites_to_search(pipeline: Pipeline) -> None:
    for name in ("indexer", "normalizer", "crawler"):
        pipeline.start(name)
    docs = pipeline.wait_indexed(PUBLISHED)
    assert_complete(docs)
    by_url = {d["canonical_url"]: d for d in docs}

    seed_003 = by_url["http://www.lzbs.com.cn/lanzhounews/2025-04/10/content_506555247.htm"]
    assert seed_003["title"].startswith("强化“新四军”创新优势")
    assert seed_003["published_at"].startswith("2025-04-10T09:06:31")
    assert seed_003["authors"] == ["华静"] and seed_003["editors"] == ["王旭伟"]
    assert seed_003["original_script"] == "hant" and "蘭" not in seed_003["body"]
    assert "创新兰州2025年暨科技成果转化突破年行动方案" in seed_003["entities"]["policy_documents"]
    assert "久久" not in seed_003["body"] and "智能朗读" not in seed_003["body"]

    notice = by_url["http://www.lanzhou.gov.cn/art/2017/6/7/art_4_321908.html"]
    assert notice["doc_number"] == "兰政办发〔2017〕145号"
    assert "市科技局" in notice["entities"]["organizations"]

    # Searchable by a Chinese word and by an entity, through the alias.
    es = es_client(pipeline.settings)
    hit = es.search(index=pipeline.settings.es_alias, query={"match": {"title": "新四军"}})
    assert [h["_id"] for h in hit["hits"]["hits"]][:1] == [seed_003["id"]]
    hit = es.search(index=pipeline.settings.es_alias,
                    query={"term": {"doc_number": "兰政办发〔2017〕145号"}})
    assert hit["hits"]["total"]["value"] == 1

    # Freshness was measured for every indexed article.
    assert pipeline.metric("indexer", "lznews_fetch_to_searchable_seconds_count") >= len(docs)


def test_kill_9_each_service_mid_stream(pipeline: Pipeline, stack: LocalStack) -> None:
    """Each service killed mid-stream and started again. What this drill has caught: a crawler
    killed mid-walk whose listings then answered 304 (the pages behind them were never read
    again), and a restarted normaliser whose stream dropped fetched records (its stall watch
    now rewinds to the committed offsets, and its gap guard keeps Faust from committing over
    them)."""
    for name in ("indexer", "normalizer", "crawler"):
        pipeline.start(name)
    wait_for(lambda: pipeline.metric("crawler", "lznews_crawler_published_total") >= 3, 60,
             "the crawler to publish")
    pipeline.kill9("crawler")
    pipeline.start("crawler")
    wait_for(lambda: pipeline.metric("normalizer", "lznews_normalizer_articles_out_total") >= 1,
             90, "the normaliser to emit")
    pipeline.kill9("normalizer")
    pipeline.start("normalizer")
    wait_for(lambda: pipeline.metric("indexer", "lznews_indexer_documents_total") >= 1, 90,
             "the indexer to index")
    pipeline.kill9("indexer")
    pipeline.start("indexer")
    # Nothing lost, nothing indexed twice. On Tansu only, one allowance for its bug: its end
    # offsets (LOCAL-STACK.md) can cut the restarted normaliser's recovery of its dedup table
    # short, and then the second of the two near-copy reprints is not recognised and is indexed
    # under its own URL. On Apache Kafka the table recovers whole: exactly one.
    near_copies = 1 if stack.kafka_kind == "apache" else 2
    assert_complete(pipeline.wait_indexed(PUBLISHED, timeout_s=180, near_copies=near_copies),
                    near_copies=near_copies)


def test_search_server_down_for_30_seconds(e2e_settings: Settings, tmp_path: Path,
                                           mirror: MirrorServer) -> None:
    search = Server("search", free_port(), tmp_path / "osmem.log")
    search.start()
    s = e2e_settings.model_copy(update={"es_url": search.address})
    p = Pipeline(s, tmp_path, mirror)
    try:
        p.start("indexer")
        p.start("normalizer")
        wait_for(lambda: health(p.ports["indexer"])["assigned"], 60,
                 "the indexer bootstrapped and consuming")
        search.stop()  # osmem keeps nothing across a restart: the indexer must re-bootstrap
        down_at = time.monotonic()
        p.start("crawler")
        wait_for(lambda: p.metric("normalizer", "lznews_normalizer_articles_out_total")
                 >= len(PUBLISHED) - 1, 120, "every article normalised")
        time.sleep(max(0.0, 30 - (time.monotonic() - down_at)))
        search.start()
        assert_complete(p.wait_indexed(PUBLISHED))
        assert p.metric("indexer", "lznews_indexer_retries_total") > 0  # it did try, and wait
        assert p.metric("indexer", "lznews_dead_letters_total") == 0
    finally:
        p.stop()
        search.stop()


def test_poison_messages_in_every_topic(pipeline: Pipeline) -> None:
    s = pipeline.settings
    producer = kafka.producer(s)
    poison = {RAW_PAGES: [b"\x00\xff garbage", json.dumps({"url": "x"}).encode()],
              ARTICLES: [b"{not json", json.dumps({"schema": "lznews.article/1"}).encode()],
              DEAD_LETTERS: [b"a dead letter nobody can parse"]}
    for topic, values in poison.items():
        for value in values:
            producer.send(s.topic(topic), key=b"poison", value=value)
    producer.flush(30)
    producer.close()
    for name in ("indexer", "normalizer", "crawler"):
        pipeline.start(name)
    assert_complete(pipeline.wait_indexed(PUBLISHED))

    def poisoned(records: list[Any]) -> list[DeadLetter]:
        # The dead-letters topic's own poison is only stored; everything else parses.
        return [DeadLetter.parse(r.value) for r in records
                if r.key == b"poison" and r.value not in poison[DEAD_LETTERS]]

    letters = poisoned(read_topic(s, DEAD_LETTERS, lambda r: len(poisoned(r)) >= 4,
                                  timeout_s=30, settle_s=2))
    assert sorted(d.original_topic for d in letters) == sorted(
        [s.topic(RAW_PAGES)] * 2 + [s.topic(ARTICLES)] * 2)
    assert sorted(d.original_value for d in letters) == sorted(
        poison[RAW_PAGES] + poison[ARTICLES])
    assert {d.stage for d in letters if d.original_topic == s.topic(RAW_PAGES)} == {"schema"}


def test_burst_of_ten_times_the_input(e2e_settings: Settings, tmp_path: Path,
                                      mirror: MirrorServer) -> None:
    """Ten times a crawl cycle's articles at once, straight into raw-pages: every page is
    accounted for (emitted, duplicate or dead-lettered) and every emitted article is indexed
    once. Pages are constructed from the fixture articles' paragraphs, so they are distinct."""
    p = Pipeline(e2e_settings, tmp_path, mirror)
    s = e2e_settings
    burst = synthetic.pages(10 * len(PUBLISHED))
    producer = kafka.producer(s, linger_ms=20)
    for raw in burst:
        producer.send(s.topic(RAW_PAGES), key=raw.url.encode(), value=raw.to_bytes())
    producer.flush(60)
    producer.close()
    p.start("normalizer")
    p.start("indexer")
    try:
        check_burst(p, len(burst))
    finally:
        p.stop()


def check_burst(p: Pipeline, want: int) -> None:
    wait_for(lambda: p.metric("normalizer", "lznews_normalizer_pages_in_total") >= want, 300,
             f"{want} pages normalised")
    out = p.metric("normalizer", "lznews_normalizer_articles_out_total")
    dups = p.metric("normalizer", "lznews_normalizer_duplicates_total")
    dead = p.metric("normalizer", "lznews_dead_letters_total")
    assert out + dups + dead == want  # every page accounted for
    assert out >= want * 0.9, (out, dups, dead)
    wait_for(lambda: len(p.docs()) >= out, 300, f"{out} documents indexed")
    docs = p.docs()
    assert len(docs) == out == len({d["url"] for d in docs})
