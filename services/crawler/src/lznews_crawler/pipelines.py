"""The Kafka pipeline: publish, wait for the acknowledgement, and only then mark seen.

KafkaPipeline owns the crawl's Kafka side. open_spider creates the topics and the producer
(waiting for Kafka: for ever in a continuous crawl, LZNEWS_CRAWLER_PUBLISH_TIMEOUT_S in a
one-shot one, which then closes the spider before any fetch and keeps the error in
`connect_error` for the command to report) and builds the Publisher and the DeadLetterSink on
it; close_spider flushes and closes them. The seen-store is the crawl's (state.py); the
spider learns which items are done from Scrapy's item signals.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from kafka.errors import KafkaError
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from lznews_common.deadletter import DeadLetterSink
from lznews_common.metrics import (
    CRAWLER_PUBLISH_FAILURES,
    CRAWLER_PUBLISH_LATENCY,
    CRAWLER_PUBLISHED,
    CRAWLER_SEEN,
)
from lznews_common.models import DeadLetter, RawPage
from lznews_common.settings import Settings
from lznews_common.topics import RAW_PAGES
from lznews_crawler.config import Mode
from lznews_crawler.items import DeadLetterItem, PageItem
from lznews_crawler.publisher import Publisher, connect
from lznews_crawler.state import seen_store

log = logging.getLogger(__name__)


class KafkaPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.settings: Settings = crawler.settings["LZNEWS_SETTINGS"]
        self.mode: Mode = crawler.settings["LZNEWS_MODE"]
        self.crawl_id: str = crawler.settings["LZNEWS_CRAWL_ID"]
        self.store = seen_store(crawler)
        self.publisher: Publisher | None = None  # None until Kafka answered
        self.dead_letters: DeadLetterSink | None = None
        self.connect_error: KafkaError | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KafkaPipeline:
        return cls(crawler)

    async def open_spider(self) -> None:
        s = self.settings
        wait_s = None if self.mode == "continuous" else s.crawler_publish_timeout_s
        try:
            producer = await connect(s, wait_s)
        except KafkaError as exc:
            self.connect_error = exc
            raise CloseSpider("kafka_unavailable") from exc
        self.publisher = Publisher(producer)
        self.dead_letters = DeadLetterSink(s, producer, "crawler")

    async def close_spider(self) -> None:
        if self.publisher is not None:
            # Flushing waits for Kafka's last acknowledgements: off the reactor thread.
            await maybe_deferred_to_future(deferToThread(self.publisher.close))

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, PageItem):
            await self._publish_page(item)
        elif isinstance(item, DeadLetterItem):
            await self._dead_letter(item)
        return item

    async def _publish_page(self, item: PageItem) -> None:
        assert self.publisher is not None  # no item comes before open_spider has connected
        raw = RawPage.build(
            url=item.url, final_url=item.final_url, site=item.site, http_status=item.status,
            body=item.body, headers=item.headers, crawl_id=self.crawl_id,
            fetched_at=item.fetched_at,
        )
        started = time.monotonic()
        try:
            await maybe_deferred_to_future(self.publisher.send(
                self.settings.topic(RAW_PAGES), item.key.encode(), raw.to_bytes()))
        except Exception as exc:
            # Not marked seen: the URL stays pending and is fetched again on the next visit.
            CRAWLER_PUBLISH_FAILURES.labels(item.site).inc()
            self._inc("publish_failed")
            raise DropItem(f"Kafka did not acknowledge {item.key}: {exc!r}") from exc
        CRAWLER_PUBLISH_LATENCY.observe(time.monotonic() - started)
        CRAWLER_PUBLISHED.labels(item.site).inc()
        self._inc("published")
        self.store.mark_done(item.site, *item.aliases)
        CRAWLER_SEEN.set(self.store.size)

    async def _dead_letter(self, item: DeadLetterItem) -> None:
        sink = self.dead_letters
        assert sink is not None  # as in _publish_page
        letter = DeadLetter.build(
            stage="crawl", error=f"{item.url}: {item.error}", error_type=item.error_type,
            value=item.body, max_inline_bytes=sink.max_inline,
        )
        try:
            # DeadLetterSink waits for acks=all synchronously; keep it off the reactor thread.
            await maybe_deferred_to_future(deferToThread(sink.send, letter, item.key.encode()))
        except Exception as exc:
            self._inc("dead_letter_failed")
            raise DropItem(f"dead letter for {item.key} not acknowledged: {exc!r}") from exc
        self._inc("dead_letters")
        self.store.mark_dead(item.site, item.key, item.error_type)
        for alias in item.aliases:
            self.store.mark_dead(item.site, alias, item.error_type)
        CRAWLER_SEEN.set(self.store.size)

    def _inc(self, key: str) -> None:
        if self.stats:
            self.stats.inc_value(f"lznews/{key}")
