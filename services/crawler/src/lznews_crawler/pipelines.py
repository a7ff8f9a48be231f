"""The Kafka pipeline: publish, wait for the acknowledgement, and only then mark seen."""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from lznews_common.metrics import (
    CRAWLER_PUBLISH_FAILURES,
    CRAWLER_PUBLISH_LATENCY,
    CRAWLER_PUBLISHED,
    CRAWLER_SEEN,
)
from lznews_common.models import DeadLetter, RawPage
from lznews_common.topics import RAW_PAGES
from lznews_crawler.items import DeadLetterItem, PageItem
from lznews_crawler.runtime import Runtime

log = logging.getLogger(__name__)


class KafkaPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KafkaPipeline:
        return cls(crawler)

    @property
    def rt(self) -> Runtime:
        return self.crawler.spider.runtime  # type: ignore[union-attr]

    async def process_item(self, item: Any) -> Any:
        try:
            if isinstance(item, PageItem):
                await self._publish_page(item)
            elif isinstance(item, DeadLetterItem):
                await self._dead_letter(item)
        finally:
            self.crawler.spider.release(item)  # type: ignore[union-attr]
        return item

    async def _publish_page(self, item: PageItem) -> None:
        rt = self.rt
        raw = RawPage.build(
            url=item.url, final_url=item.final_url, site=item.site, http_status=item.status,
            body=item.body, headers=item.headers, crawl_id=rt.crawl_id,
            fetched_at=item.fetched_at,
        )
        started = time.monotonic()
        try:
            await maybe_deferred_to_future(
                rt.publisher.send(rt.settings.topic(RAW_PAGES), item.key.encode(), raw.to_bytes())
            )
        except Exception as exc:
            # Not marked seen: the URL stays pending and is fetched again on the next visit.
            CRAWLER_PUBLISH_FAILURES.labels(item.site).inc()
            self._inc("publish_failed")
            raise DropItem(f"Kafka did not acknowledge {item.key}: {exc!r}") from exc
        CRAWLER_PUBLISH_LATENCY.observe(time.monotonic() - started)
        CRAWLER_PUBLISHED.labels(item.site).inc()
        self._inc("published")
        rt.store.mark_done(item.site, *item.aliases)
        CRAWLER_SEEN.set(rt.store.size)

    async def _dead_letter(self, item: DeadLetterItem) -> None:
        rt = self.rt
        letter = DeadLetter.build(
            stage="crawl", error=f"{item.url}: {item.error}", error_type=item.error_type,
            value=item.body, max_inline_bytes=rt.dead_letters.max_inline,
        )
        try:
            # DeadLetterSink waits for acks=all synchronously; keep it off the reactor thread.
            await maybe_deferred_to_future(
                deferToThread(rt.dead_letters.send, letter, item.key.encode())
            )
        except Exception as exc:
            self._inc("dead_letter_failed")
            raise DropItem(f"dead letter for {item.key} not acknowledged: {exc!r}") from exc
        self._inc("dead_letters")
        rt.store.mark_dead(item.site, item.key, item.error_type)
        for alias in item.aliases:
            rt.store.mark_dead(item.site, alias, item.error_type)
        CRAWLER_SEEN.set(rt.store.size)

    def _inc(self, key: str) -> None:
        if self.stats:
            self.stats.inc_value(f"lznews/{key}")
