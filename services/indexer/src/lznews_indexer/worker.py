"""The indexer: the articles topic into the index behind the write alias, in bulks.

Invariant: a committed offset means every record before it has a final outcome in the index
behind the alias (indexed, superseded by a newer fetch, or dead-lettered with its error).
- The consumer base (lznews_common.consumer) commits a batch only after the bulk holding it
  succeeded for every item that can succeed; while the cluster refuses or is unreachable the
  bulk is retried with consumption paused, so memory stays bounded by one batch.
- Before every retry the cluster layout is re-bootstrapped. If the data behind the alias was
  lost (its oldest index was recreated: a restarted in-memory server, an index deleted by hand),
  this worker's partitions are committed back to the beginning and the compacted topic is
  re-read, so the invariant holds for the new index too.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError

from lznews_common.consumer import ConsumerWorker, Limits, Polled
from lznews_common.logs import setup_logging
from lznews_common.metrics import (
    FRESHNESS,
    INDEXER_DOCS,
    INDEXER_ITEM_FAILURES,
    INDEXER_LAG,
    INDEXER_LAST_BULK,
)
from lznews_common.models import Article
from lznews_common.offsets import ranges
from lznews_common.search import es_client
from lznews_common.settings import Settings, load_settings
from lznews_common.startup import one_line_errors
from lznews_common.topics import ARTICLES
from lznews_indexer.bootstrap import Bootstrapper, BootstrapResult
from lznews_indexer.bulk import BulkWriter, Doc, ItemResult, Outcome

log = logging.getLogger("lznews_indexer")


def _outcomes(results: Iterable[ItemResult]) -> str:
    counts: dict[str, int] = {}
    for res in results:
        counts[res.outcome.value] = counts.get(res.outcome.value, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing to write"


class Indexer(ConsumerWorker[Article]):
    stage = "indexer"
    setup_errors = (TransportError, ApiError)
    lag_gauge = INDEXER_LAG

    def __init__(self, settings: Settings, *, exit_when_idle_s: float | None = None) -> None:
        super().__init__(
            settings,
            topic=settings.topic(ARTICLES),
            group=f"{settings.topic_prefix}{settings.indexer_group_id}",
            limits=Limits(max_records=settings.indexer_bulk_max_docs,
                          max_bytes=settings.indexer_bulk_max_bytes,
                          max_wait_s=settings.indexer_bulk_max_wait_s,
                          max_record_bytes=settings.max_article_bytes,
                          max_record_setting="LZNEWS_MAX_ARTICLE_BYTES"),
            retry_initial_s=settings.indexer_retry_initial_s,
            retry_max_s=settings.indexer_retry_max_s,
            ready_name="bootstrapped",
            exit_when_idle_s=exit_when_idle_s,
        )
        self.es = es_client(settings)
        self.boot = Bootstrapper(self.es, settings)
        self.writer = BulkWriter(self.es, settings.es_alias, retry_initial_s=self.retry_initial_s,
                                 retry_max_s=self.retry_max_s, wait=self.wait,
                                 before_retry=self._rebootstrap, on_retry=self.health.failing)
        self.health.detail.update(analyzer=None, lifecycle=None, rollover_api=None,
                                  index_generation=None, last_bulk_success=None)
        self.generation: str | None = None
        self.last_check = time.monotonic()
        # Throughput figures for the benchmark.
        self.indexed = 0
        self.last_success_at: float | None = None

    def check(self) -> tuple[bool, dict[str, Any]]:
        ok, state = self.health.check()
        state["search_cluster"] = "failing" if self.health.failing_since is not None else "ok"
        return ok, state

    # --- the stage ------------------------------------------------------------------------------

    def setup(self) -> None:
        result = self.boot.run()
        if result.created_index:
            # A new index under a group that may have committed offsets (a lost or new
            # cluster): those offsets are for data that is not here, so re-read.
            self.rewind_next_assignment = self.s.indexer_rewind_on_index_loss
        self._apply(result)

    def decode(self, value: bytes) -> Article:
        return Article.parse(value)

    def count(self, outcome: str) -> None:
        if outcome == "tombstone_ignored":
            # Articles leave the index by its own retention, not by the topic's compaction.
            INDEXER_DOCS.labels(outcome).inc()
            return
        INDEXER_ITEM_FAILURES.labels(outcome).inc()
        INDEXER_DOCS.labels("dead_lettered").inc()

    def handle(self, batch: list[Polled[Article]]) -> None:
        stats = self.writer.write([Doc.from_article(p.message, ref=p.record) for p in batch])
        now = datetime.now(UTC)
        for res in stats.results:
            if res.outcome in (Outcome.CREATED, Outcome.UPDATED):
                INDEXER_DOCS.labels(res.outcome.value).inc()
                FRESHNESS.observe(max(0.0, (now - res.doc.fetched_at).total_seconds()))
                self.indexed += 1
            elif res.outcome is Outcome.CONFLICT:
                INDEXER_DOCS.labels(res.outcome.value).inc()
            else:
                INDEXER_DOCS.labels("dead_lettered").inc()
                self.dead_letter(res.doc.ref, res.error_type or "error",
                                 f"HTTP {res.status}: {res.reason}")
        log.info("bulk of %d: %s; offsets %s", len(batch), _outcomes(stats.results),
                 ranges([p.record for p in batch]))
        INDEXER_LAST_BULK.set_to_current_time()
        self.health.detail["last_bulk_success"] = time.time()
        self.last_success_at = time.monotonic()

    def tick(self) -> None:
        if time.monotonic() - self.last_check >= self.s.indexer_index_check_s:
            self._check_index()

    # --- cluster state: re-bootstrap, loss detection --------------------------------------------

    def _apply(self, result: BootstrapResult) -> None:
        self.health.detail.update(analyzer=result.analyzer, lifecycle=result.lifecycle,
                                  rollover_api=result.rollover_api)
        self._observe_generation(result.generation)

    def _rebootstrap(self) -> None:
        self._apply(self.boot.run())

    def _observe_generation(self, generation: str | None) -> None:
        if generation is None:
            return
        if self.generation is not None and generation != self.generation:
            log.error("the data behind %s was recreated (%s -> %s): what was indexed before "
                      "is gone", self.s.es_alias, self.generation, generation)
            if self.s.indexer_rewind_on_index_loss and self.consumer is not None:
                self.rewind(set(self.consumer.assignment()))
        self.generation = generation
        self.health.detail["index_generation"] = generation

    def _check_index(self) -> None:
        self.last_check = time.monotonic()
        try:
            generation = self.boot.generation()
            if generation is None:  # the alias is gone: lay the cluster out again
                log.warning("write alias %s is missing: bootstrapping again", self.s.es_alias)
                self._rebootstrap()
            else:
                self._observe_generation(generation)
        except (TransportError, ApiError) as exc:
            log.warning("index check failed (%s); the next bulk retries", exc)


@one_line_errors("lznews-indexer")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="lznews-indexer",
        description="Index the articles topic into Elasticsearch/OpenSearch (LZNEWS_* settings).",
    )
    parser.add_argument(
        "--exit-when-idle",
        type=float,
        metavar="SECONDS",
        help="exit after this long without new records (backfills, benchmarks)",
    )
    parser.add_argument(
        "--bootstrap-only", action="store_true", help="lay out the cluster, then exit"
    )
    args = parser.parse_args(argv)
    settings = load_settings()
    setup_logging(settings)
    worker = Indexer(settings, exit_when_idle_s=args.exit_when_idle)
    if args.bootstrap_only:
        return 0 if worker.setup_until_ready() else 1
    worker.serve(settings.indexer_metrics_port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
