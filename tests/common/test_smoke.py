"""Smoke test through the real plumbing: shared producer -> Tansu -> shared consumer group ->
osmem via the official elasticsearch client (plain-json flavour) -> search by a Chinese word."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from lznews_common import kafka
from lznews_common.models import Article, article_id
from lznews_common.search import es_client
from lznews_common.settings import Settings
from lznews_common.topics import ARTICLES, ensure_topics


def _article() -> Article:
    url = "http://www.lzbs.com.cn/lanzhounews/2025-04/10/content_506555247.htm"
    now = datetime.now(UTC)
    return Article(
        id=article_id(url),
        url=url,
        canonical_url=url,
        site="lzbs",
        title="兰州市以科技创新驱动城市竞争力跃升",
        published_at=datetime.fromisoformat("2025-04-10T09:06:31+08:00"),
        source="兰州日报",
        authors=["华静"],
        editors=["王旭伟"],
        doc_number=None,
        body="近日，全市科技大会召开，为兰州市科技创新发展按下了加速键。",
        original_script="hant",
        fetched_at=now,
        normalized_at=now,
        pipeline_version="smoke",
        content_hash="0" * 64,
        simhash="0" * 16,
    )


def test_article_through_kafka_and_search(settings: Settings, capsys) -> None:
    admin = kafka.admin(settings)
    try:
        created = ensure_topics(admin, settings)
        assert settings.topic(ARTICLES) in created
        assert ensure_topics(admin, settings) == []  # idempotent
    finally:
        admin.close()

    article = _article()
    producer = kafka.producer(settings)
    meta = producer.send(
        settings.topic(ARTICLES), key=article.id.encode(), value=article.to_bytes()
    ).get(timeout=30)
    producer.close()
    assert meta.offset >= 0

    started = time.monotonic()
    consumer = kafka.consumer(settings, "smoke", settings.topic(ARTICLES))
    received = None
    try:
        while received is None and time.monotonic() - started < 60:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    received = Article.parse(record.value)
        join_s = time.monotonic() - started
        consumer.commit()
    finally:
        consumer.close()
    with capsys.disabled():
        print(
            f"\n[smoke] group join to first record: {join_s:.1f} s "
            f"(session timeout {settings.kafka_session_timeout_ms} ms)"
        )
    assert received == article

    es = es_client(settings)
    index = f"{settings.topic_prefix}smoke"
    es.indices.create(
        index=index,
        mappings={
            "properties": {
                "title": {"type": "text", "analyzer": "cjk"},
                "site": {"type": "keyword"},
            }
        },
    )
    es.index(index=index, id=received.id, document=received.to_document())
    es.indices.refresh(index=index)
    hits = es.search(index=index, query={"match": {"title": "竞争力"}})["hits"]["hits"]
    assert [h["_id"] for h in hits] == [article.id]
    assert hits[0]["_source"]["authors"] == ["华静"]
    assert not es.search(index=index, query={"match": {"title": "农业"}})["hits"]["hits"]
    es.indices.delete(index=index)
