"""Indexer throughput: documents/s through the indexer (articles topic -> index) beside a plain
elasticsearch.helpers.bulk of the same documents into the same server, and the ratio.

    .venv/bin/python bench/bench_indexer.py [--docs 1000] [--bulk 500]

Starts its own local stack (Tansu + osmem) on free ports and stops it at the end. The indexer
figure runs from its first fetched record to its last successful bulk (the consumer group join,
a few seconds on Tansu, is printed separately), so both figures measure moving documents.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from elasticsearch import helpers

from lznews_common import kafka
from lznews_common.models import Amount, Article, Entities, article_id
from lznews_common.search import es_client
from lznews_common.settings import Settings, load_settings
from lznews_common.topics import ARTICLES, prepare_topics
from lznews_devstack.stack import LocalStack
from lznews_indexer.bootstrap import Bootstrapper
from lznews_indexer.bulk import BulkWriter, Doc
from lznews_indexer.worker import Indexer

SENTENCES = [
    "近年来，兰州市科技局坚持科技创新和制度创新“双轮驱动”，持续深化科技体制机制改革。",
    "兰州市出台了《兰州市支持科技创新若干措施》等一系列政策和文件，营造了良好的政策环境。",
    "2016年以来，兰州市科技局支持科技项目1556项，开发新产品574件，新增销售收入47.15亿元。",
    "兰州高新区兑现奖补资金8573.9万元，推动新型研发机构建设实现新成效。",
    "今年全市将发布企业技术需求1500项以上，技术合同年成交额力争达到135亿元。",
    "全市将深化与在兰科研“新四军”的合作，提升科技成果源头供给质量。",
]


def article(i: int) -> Article:
    url = f"http://www.lzbs.com.cn/lanzhounews/bench/content_{i:07d}.htm"
    fetched = datetime(2025, 4, 20, tzinfo=UTC) + timedelta(seconds=i)
    # ~2.5 KB of UTF-8 per body: a typical local news article after cleaning.
    body = "\n".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(18))
    return Article(
        id=article_id(url),
        url=url,
        canonical_url=url,
        site=("lzbs", "lanzhou_gov", "people_gansu")[i % 3],
        title=f"兰州市以科技创新驱动城市竞争力跃升（{i}）",
        published_at=fetched,
        source="兰州日报",
        authors=["华静"],
        editors=["王旭伟"],
        body=body,
        original_script="hans",
        fetched_at=fetched,
        normalized_at=fetched,
        pipeline_version="bench",
        entities=Entities(
            organizations=["兰州市科技局"],
            places=["兰州市"],
            policy_documents=["兰州市支持科技创新若干措施"],
            amounts=[Amount(text="47.15亿元", value_cny=4_715_000_000)],
        ),
        quality={"boilerplate_lines": 2},
        content_hash=f"{i:064x}",
        simhash=f"{i:016x}",
    )


def plain_bulk(s: Settings, articles: list[Article], chunk: int) -> float:
    es = es_client(s, request_timeout=300)
    Bootstrapper(es, s).run()
    writer = BulkWriter(es, s.es_alias)  # only for the same action shape (id, external version)
    docs = [Doc.from_article(a) for a in articles]
    ops = writer.operations(docs)
    actions = [
        {**ops[2 * k]["index"], "_op_type": "index", "_source": ops[2 * k + 1]}
        for k in range(len(docs))
    ]
    started = time.perf_counter()
    ok, errors = helpers.bulk(es, actions, chunk_size=chunk, max_chunk_bytes=100 << 20)
    elapsed = time.perf_counter() - started
    assert ok == len(articles) and not errors, errors
    es.indices.refresh(index=s.es_alias)
    assert es.count(index=s.es_alias)["count"] == len(articles)
    return elapsed


def through_indexer(s: Settings, articles: list[Article]) -> tuple[float, float]:
    prepare_topics(s)
    producer = kafka.producer(s, linger_ms=20)
    for a in articles:
        producer.send(s.topic(ARTICLES), key=a.id.encode(), value=a.to_bytes())
    producer.flush()
    producer.close()

    worker = Indexer(s)
    started = time.monotonic()
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 600
    while worker.indexed < len(articles) and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.stop()
    thread.join(timeout=60)
    assert worker.indexed == len(articles), f"indexed {worker.indexed} of {len(articles)}"
    assert worker.first_record_at is not None and worker.last_success_at is not None
    es = es_client(s)
    es.indices.refresh(index=s.es_alias)
    assert es.count(index=s.es_alias)["count"] == len(articles)
    return worker.last_success_at - worker.first_record_at, worker.first_record_at - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--bulk", type=int, default=500, help="documents per bulk (both paths)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        stack = LocalStack(state_dir=Path(tmp)).start()
        try:
            env = stack.env()
            base = load_settings(
                kafka_bootstrap=env["LZNEWS_KAFKA_BOOTSTRAP"],
                es_url=env["LZNEWS_ES_URL"],
                es_flavor="plain-json",
                kafka_session_timeout_ms=6000,
                kafka_heartbeat_interval_ms=2000,
                topic_prefix="bench-",
                indexer_bulk_max_docs=args.bulk,
                indexer_bulk_max_bytes=64 << 20,
                indexer_index_replicas=0,
                es_timeout_s=300,
            )
            articles = [article(i) for i in range(args.docs)]
            size_kb = sum(len(a.to_bytes()) for a in articles) / len(articles) / 1024
            plain = base.model_copy(update={"es_alias": "bench-plain"})
            plain_s = plain_bulk(plain, articles, args.bulk)
            print(f"helpers.bulk done in {plain_s:.1f} s", flush=True)
            idx_s, join_s = through_indexer(
                base.model_copy(update={"es_alias": "bench-indexer"}), articles
            )
        finally:
            stack.stop()

    plain_rate, idx_rate = args.docs / plain_s, args.docs / idx_s
    print(f"documents: {args.docs} (~{size_kb:.1f} KB each), {args.bulk} per bulk, osmem (cjk)")
    print(f"helpers.bulk:            {plain_rate:8.1f} docs/s  ({plain_s:.2f} s)")
    print(
        f"indexer (topic->index):  {idx_rate:8.1f} docs/s  ({idx_s:.2f} s, "
        f"group join {join_s:.1f} s)"
    )
    print(f"ratio indexer/helpers:   {idx_rate / plain_rate:8.2f}")


if __name__ == "__main__":
    main()
