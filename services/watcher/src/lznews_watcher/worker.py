"""lznews-watcher: match every new article against every watch, publish each match once.

A consumer-base stage (lznews_common.consumer) on `articles`. Per polled batch:
1. parse (bad messages are dead-lettered by the base), keep the newest copy per article id;
2. drop copies the index already holds a newer fetch of (an old fetch arriving late is not news);
3. match against the current watches (reloaded every batch, so a watch is live as soon as
   `lznews-watch add` returns);
4. claim each alert in the ledger (op_type=create), publish the claimed ones to `alerts`, wait
   for the acknowledgements, mark the claims published;
5. the base commits the batch's offsets.
Cluster or Kafka trouble anywhere in 2-4 retries the batch with backoff, nothing committed; this
process's own claims and acknowledged alerts are remembered, so a retry never re-publishes.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import uuid
from datetime import UTC, datetime

from elastic_transport import TransportError
from elasticsearch import ApiError
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError

from lznews_common.consumer import ConsumerWorker, Limits, Polled
from lznews_common.logs import setup_logging
from lznews_common.metrics import (
    WATCH_ARTICLES,
    WATCH_MATCH_LATENCY,
    WATCH_MATCHES,
    WATCH_RETRIES,
    WATCH_SUPPRESSED,
    WATCH_WATCHES,
)
from lznews_common.models import Article
from lznews_common.search import es_client
from lznews_common.settings import Settings, load_settings
from lznews_common.startup import one_line_errors
from lznews_common.topics import ALERTS, ARTICLES
from lznews_watcher.alert import build_alert
from lznews_watcher.layout import LayoutError, ensure_ledger
from lznews_watcher.ledger import Ledger
from lznews_watcher.matcher import Match, Matcher, make_matcher
from lznews_watcher.store import WatchStore

log = logging.getLogger("lznews_watcher")

POLL_RECORDS = 200
RETRYABLE = (TransportError, ApiError, KafkaError, LayoutError, RuntimeError)


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Watcher(ConsumerWorker[Article]):
    stage = "watcher"
    setup_errors = (TransportError, ApiError, LayoutError)

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            settings,
            topic=settings.topic(ARTICLES),
            group=f"{settings.topic_prefix}{settings.watcher_group_id}",
            limits=Limits(max_records=POLL_RECORDS, max_record_bytes=settings.max_article_bytes,
                          max_record_setting="LZNEWS_MAX_ARTICLE_BYTES"),
            retry_initial_s=settings.watch_retry_initial_s,
            retry_max_s=settings.watch_retry_max_s,
        )
        self.alerts_topic = settings.topic(ALERTS)
        self.es = es_client(settings)
        self.store = WatchStore(self.es, settings.es_alias)
        self.token = uuid.uuid4().hex[:12]
        self.ledger = Ledger(self.es, settings.es_alias, self.token)
        self.matcher: Matcher | None = None
        self.acked: set[str] = set()  # ledger ids Kafka acknowledged in the batch in flight

    def setup(self) -> None:
        if self.matcher is None:
            self.matcher = make_matcher(self.es, self.s.es_alias, self.s.watch_matcher)
            log.info("matcher: %s", self.matcher.kind)
            self.health.detail["matcher"] = self.matcher.kind
        self.store.ensure()
        self.matcher.prepare()
        ensure_ledger(self.es, self.s.es_alias)

    def decode(self, value: bytes) -> Article:
        return Article.parse(value)

    def count(self, outcome: str) -> None:
        WATCH_ARTICLES.labels(
            outcome if outcome == "tombstone_ignored" else "dead_lettered").inc()

    def handle(self, batch: list[Polled[Article]]) -> None:
        # Later offsets of a key win.
        newest = {p.message.id: (p.record, p.message) for p in batch}
        for attempt in self.retrying(self._retry_batch, "batch"):
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    self._prepare_quietly()
                if newest:  # all of it may have been dead-lettered by an earlier attempt
                    self.match_and_alert(newest)
        self.acked.clear()

    @staticmethod
    def _retry_batch(exc: BaseException) -> bool:
        if not isinstance(exc, RETRYABLE):
            return False
        WATCH_RETRIES.labels(type(exc).__name__).inc()
        return True

    def _prepare_quietly(self) -> None:
        try:
            self.setup()
        except RETRYABLE as exc:  # the next attempt fails and backs off again
            log.debug("prepare before retry failed: %s", exc)

    def match_and_alert(self, newest: dict[str, tuple[ConsumerRecord, Article]]) -> None:
        assert self.matcher is not None
        started = time.monotonic()
        watches = self.store.list()
        WATCH_WATCHES.set(len(watches))
        self.matcher.set_watches(watches)
        articles = self.current(newest)
        result = self.matcher.match_many(articles)
        WATCH_MATCH_LATENCY.observe(time.monotonic() - started)
        for aid, reason in result.refused.items():
            record, _ = newest.pop(aid)
            WATCH_ARTICLES.labels("dead_lettered").inc()
            self.dead_letter(record, "mapper_parsing_exception", reason)
        matched = {m.article.id for m in result.matches}
        for a in articles:
            if a.id in newest:
                WATCH_ARTICLES.labels("matched" if a.id in matched else "unmatched").inc()
        self.publish(result.matches)

    def current(self, newest: dict[str, tuple[ConsumerRecord, Article]]) -> list[Article]:
        """The articles whose copy here is not older than the one in the index."""
        ids = list(newest)
        resp = self.es.search(
            index=self.s.es_alias, query={"ids": {"values": ids}}, size=len(ids),
            source_includes=["fetched_at"],
        )
        indexed = {h["_id"]: _when(h["_source"]["fetched_at"]) for h in resp["hits"]["hits"]}
        out: list[Article] = []
        for aid, (_, article) in newest.items():
            if aid in indexed and indexed[aid] > article.fetched_at:
                WATCH_SUPPRESSED.labels("superseded").inc()
                WATCH_ARTICLES.labels("superseded").inc()
                continue
            out.append(article)
        return out

    def publish(self, matches: list[Match]) -> None:
        assert self.producer is not None
        now = datetime.now(UTC)
        alerts = {a.alert_id: a for a in (build_alert(m.watch, m.article, m.highlights, now)
                                           for m in matches)}
        fields = {
            lid: {"watch_id": a.watch_id, "watch": a.watch, "article_id": a.article_id,
                  "content_key": a.content_key}
            for lid, a in alerts.items()
        }
        claims = self.ledger.claim(fields)
        for _ in claims.published:
            WATCH_SUPPRESSED.labels("already_alerted").inc()
        for lid in claims.unconfirmed:
            WATCH_SUPPRESSED.labels("unconfirmed").inc()
            log.error("alert %s was claimed by another process and never confirmed: "
                      "not re-sent (at most once); see `lznews-watch pending`", lid)
        todo = [lid for lid in claims.mine if lid not in self.acked]
        futures = [
            (lid, self.producer.send(self.alerts_topic, key=alerts[lid].watch_id.encode(),
                                     value=alerts[lid].to_bytes()))
            for lid in todo
        ]
        self.producer.flush(timeout=self.s.kafka_request_timeout_ms / 1000)
        failed: Exception | None = None
        for lid, fut in futures:
            try:
                fut.get(timeout=self.s.kafka_request_timeout_ms / 1000)
            except KafkaError as exc:
                failed = failed or exc
                continue
            self.acked.add(lid)
            WATCH_MATCHES.labels(alerts[lid].watch).inc()
            log.info("alert %s: %s -> %s", lid, alerts[lid].watch, alerts[lid].title)
        if failed is not None:
            raise failed  # the batch is retried; acknowledged alerts are not sent again
        self.ledger.confirm({lid: fields[lid] for lid in claims.mine})


@one_line_errors("lznews-watcher")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="lznews-watcher",
        description="Match new articles against saved watches; publish alerts (LZNEWS_* settings).",
    )
    parser.parse_args(argv)
    settings = load_settings()
    setup_logging(settings)
    worker = Watcher(settings)
    worker.serve(settings.watcher_metrics_port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
