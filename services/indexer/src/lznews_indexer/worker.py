"""The indexer worker: a kafka-python consumer group on `articles`, bulk writes, commit after.

Invariant: a committed offset means every record before it has a final outcome in the index
behind the alias (indexed, superseded by a newer fetch, or dead-lettered with its error).
- Offsets are committed only after the bulk holding those records succeeded for every item that
  can succeed; while the cluster refuses or is unreachable the worker waits with consumption
  paused, so memory stays bounded by one batch and nothing is committed.
- Before every retry the cluster layout is re-bootstrapped. If the data behind the alias was
  lost (its oldest index was recreated: a restarted in-memory server, an index deleted by hand),
  the offsets of this worker's partitions are committed back to the beginning and the compacted
  topic is re-read, so the invariant holds for the new index too.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError
from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError, KafkaError
from kafka.structs import OffsetAndMetadata

from lznews_common import kafka
from lznews_common.deadletter import DeadLetterFailed, DeadLetterSink, halt, oversize
from lznews_common.httpserver import serve_while
from lznews_common.logs import setup_logging
from lznews_common.metrics import (
    FRESHNESS,
    INDEXER_DOCS,
    INDEXER_ITEM_FAILURES,
    INDEXER_LAG,
    INDEXER_LAST_BULK,
)
from lznews_common.models import Article, MessageError
from lznews_common.retry import backoff
from lznews_common.search import es_client
from lznews_common.settings import Settings, load_settings
from lznews_common.startup import one_line_errors, prepare_topics_when_reachable
from lznews_common.topics import ARTICLES
from lznews_indexer.bootstrap import Bootstrapper, BootstrapResult
from lznews_indexer.bulk import BulkWriter, Doc, Outcome
from lznews_indexer.health import HealthState

log = logging.getLogger("lznews_indexer")

STAGE = "indexer"
LAG_EVERY_S = 5.0  # how often the lag gauge asks the broker for end offsets


class Stopping(Exception):
    """Raised out of a backoff wait when the worker is asked to stop: the batch in flight is
    abandoned uncommitted (it is re-read on the next start), never half-committed."""


class Batch:
    """Records waiting for the next bulk, bounded by count and bytes by the caller."""

    def __init__(self) -> None:
        self.records: list[ConsumerRecord] = []
        self.bytes = 0
        self.opened = 0.0

    def __len__(self) -> int:
        return len(self.records)

    def add(self, record: ConsumerRecord) -> None:
        if not self.records:
            self.opened = time.monotonic()
        self.records.append(record)
        self.bytes += len(record.value or b"")

    def age(self) -> float:
        return time.monotonic() - self.opened if self.records else 0.0

    def take(self) -> list[ConsumerRecord]:
        out, self.records, self.bytes = self.records, [], 0
        return out

    def drop(self, partitions: Iterable[TopicPartition]) -> None:
        gone = set(partitions)
        kept = [r for r in self.records if TopicPartition(r.topic, r.partition) not in gone]
        self.records = []
        self.bytes = 0
        for r in kept:
            self.add(r)


def _outcomes(results: Iterable[Any]) -> str:
    counts: dict[str, int] = {}
    for res in results:
        counts[res.outcome.value] = counts.get(res.outcome.value, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing to write"


def _ranges(records: list[ConsumerRecord]) -> str:
    """Which offsets a bulk held, per partition: the trail for a record that went missing."""
    spans: dict[int, list[int]] = {}
    for r in records:
        spans.setdefault(r.partition, []).append(r.offset)
    return " ".join(f"p{p}:{min(o)}-{max(o)}({len(o)})" for p, o in sorted(spans.items()))


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, worker: Indexer) -> None:
        self.worker = worker

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.worker._on_revoked(revoked)

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.worker._on_assigned(assigned)


class Indexer:
    def __init__(self, settings: Settings, *, exit_when_idle_s: float | None = None) -> None:
        self.s = settings
        self.topic = settings.topic(ARTICLES)
        self.group = f"{settings.topic_prefix}{settings.indexer_group_id}"
        self.exit_when_idle_s = exit_when_idle_s
        self.es = es_client(settings)
        self.boot = Bootstrapper(self.es, settings)
        self.writer = BulkWriter(
            self.es,
            settings.es_alias,
            retry_initial_s=settings.indexer_retry_initial_s,
            retry_max_s=settings.indexer_retry_max_s,
            wait=self._wait_paused,
            before_retry=self._rebootstrap,
        )
        self.health = HealthState(unhealthy_after_s=settings.unhealthy_after_s)
        self.consumer: KafkaConsumer | None = None
        self.sink: DeadLetterSink | None = None
        self.batch = Batch()
        self.generation: str | None = None
        self.rewind_on_assign = False
        self.rewind: set[TopicPartition] = set()
        self.uncommitted: dict[TopicPartition, int] = {}  # next offset to commit
        self.committed: dict[TopicPartition, int | None] = {}
        self.seen: dict[TopicPartition, int] = {}  # highest offset seen
        self.first_seen: dict[TopicPartition, int] = {}
        self.flushing = False
        self.last_check = time.monotonic()
        self.last_lag = 0.0
        self.last_record = time.monotonic()
        # Throughput figures for the benchmark.
        self.indexed = 0
        self.first_record_at: float | None = None
        self.last_success_at: float | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def stop(self, *_: Any) -> None:
        self.health.stopping = True

    @property
    def stopping(self) -> bool:
        return self.health.stopping

    def _apply(self, result: BootstrapResult) -> None:
        h = self.health
        h.analyzer, h.lifecycle, h.rollover_api = (
            result.analyzer,
            result.lifecycle,
            result.rollover_api,
        )
        self._observe_generation(result.generation)
        h.bootstrapped = True

    def bootstrap_until_ready(self) -> None:
        """Bootstrap at start; an unreachable cluster means wait and try again."""
        attempt = 0
        while not self.stopping:
            try:
                result = self.boot.run()
            except (TransportError, ApiError) as exc:
                attempt += 1
                delay = backoff(attempt, self.s.indexer_retry_initial_s, self.s.indexer_retry_max_s)
                log.warning("bootstrap failed (%s); retrying in %.1fs", exc, delay)
                self.health.last_error = str(exc)[:300]
                self._sleep(delay)
                continue
            if result.created_index:
                # A new index under a group that may have committed offsets (a lost or new
                # cluster): those offsets are for data that is not here, so re-read.
                self.rewind_on_assign = self.s.indexer_rewind_on_index_loss
            self._apply(result)
            return

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            self.health.touch()
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def run(self) -> None:
        self.bootstrap_until_ready()
        if self.stopping:
            return
        prepare_topics_when_reachable(self.s)
        producer = kafka.producer(self.s)
        self.sink = DeadLetterSink(self.s, producer, STAGE)
        self.consumer = kafka.consumer(self.s, self.group)
        self.consumer.subscribe([self.topic], listener=_Rebalance(self))
        log.info("consuming %s as group %s into %s", self.topic, self.group, self.s.es_alias)
        halted: str | None = None
        try:
            self._loop()
            if len(self.batch):
                self.flush()  # a clean stop writes what it holds
        except Stopping:
            log.info("stopped during a retry: the batch in flight stays uncommitted")
        except DeadLetterFailed as exc:
            halted = str(exc)  # the batch stays uncommitted: re-read after a restart
        finally:
            self.consumer.close(autocommit=False)
            producer.close(timeout=10)
            log.info("indexer stopped")
        if halted:
            halt(self.health, halted)

    def _loop(self) -> None:
        assert self.consumer is not None
        max_docs = self.s.indexer_bulk_max_docs
        max_wait = self.s.indexer_bulk_max_wait_s
        while not self.stopping:
            self.health.touch()
            timeout_s = max_wait - self.batch.age() if len(self.batch) else 1.0
            polled = self.consumer.poll(
                timeout_ms=int(max(0.0, min(timeout_s, 1.0)) * 1000),
                max_records=max(1, max_docs - len(self.batch)),
            )
            if self.rewind:
                # Records just fetched for a rewound partition are read again from the start.
                rewound = self._do_rewind()
                polled = {tp: recs for tp, recs in polled.items() if tp not in rewound}
            for tp, records in polled.items():
                for record in records:
                    self._saw(tp, record)
                    if len(self.batch) and self.batch.bytes + len(record.value or b"") > (
                        self.s.indexer_bulk_max_bytes
                    ):
                        self.flush()
                    self.batch.add(record)
            if len(self.batch) and (len(self.batch) >= max_docs or self.batch.age() >= max_wait):
                self.flush()
            if time.monotonic() - self.last_check >= self.s.indexer_index_check_s:
                self._check_index()
            self._lag_due()
            if (
                self.exit_when_idle_s is not None
                and not len(self.batch)
                and self.consumer.assignment()
                and time.monotonic() - self.last_record >= self.exit_when_idle_s
            ):
                log.info("idle for %.0fs: exiting", self.exit_when_idle_s)
                break

    # --- records, bulk, commit ----------------------------------------------------------------

    def _saw(self, tp: TopicPartition, record: ConsumerRecord) -> None:
        now = time.monotonic()
        self.last_record = now
        if self.first_record_at is None:
            self.first_record_at = now
        self.seen[tp] = max(self.seen.get(tp, -1), record.offset)
        if tp not in self.first_seen:
            self.first_seen[tp] = record.offset
            log.info("reading %s/%d from offset %d", tp.topic, tp.partition, record.offset)

    def flush(self) -> None:
        records = self.batch.take()
        if not records:
            return
        docs: list[Doc] = []
        for record in records:
            if record.value is None:
                # A tombstone: compaction's "key removed", not a bad article. Articles leave
                # the index by its own retention, not by the topic's.
                INDEXER_DOCS.labels("tombstone_ignored").inc()
                continue
            too_large = oversize(record, self.s.max_article_bytes, "LZNEWS_MAX_ARTICLE_BYTES")
            if too_large:
                INDEXER_ITEM_FAILURES.labels("too_large").inc()
                self._dead_letter(record, "too_large", too_large)
                continue
            try:
                docs.append(Doc.from_article(Article.parse(record.value), ref=record))
            except MessageError as exc:
                INDEXER_ITEM_FAILURES.labels("invalid_message").inc()
                self._dead_letter(record, "MessageError", exc.reason)
        self.flushing = True
        try:
            stats = self.writer.write(docs)
        finally:
            self.flushing = False
            self._resume()
        now = datetime.now(UTC)
        for res in stats.results:
            if res.outcome in (Outcome.CREATED, Outcome.UPDATED):
                INDEXER_DOCS.labels(res.outcome.value).inc()
                FRESHNESS.observe(max(0.0, (now - res.doc.fetched_at).total_seconds()))
                self.indexed += 1
            elif res.outcome is Outcome.CONFLICT:
                INDEXER_DOCS.labels(res.outcome.value).inc()
            else:
                self._dead_letter(
                    res.doc.ref, res.error_type or "error", f"HTTP {res.status}: {res.reason}"
                )
        log.info("bulk of %d: %s; offsets %s", len(records), _outcomes(stats.results),
                 _ranges(records))
        if docs:
            INDEXER_LAST_BULK.set_to_current_time()
            self.health.last_bulk_success = time.time()
            self.last_success_at = time.monotonic()
        self.health.failing_since, self.health.last_error = None, None
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            self.uncommitted[tp] = max(self.uncommitted.get(tp, 0), record.offset + 1)
        if self.rewind:
            self._do_rewind()
        self._commit()

    def _dead_letter(self, record: ConsumerRecord, error_type: str, error: str) -> None:
        assert self.sink is not None
        self.sink.send_record(record, STAGE, error_type, error, self._wait_dead_letter,
                              self.s.indexer_retry_initial_s, self.s.indexer_retry_max_s)
        INDEXER_DOCS.labels("dead_lettered").inc()

    def _commit(self) -> None:
        assert self.consumer is not None
        assigned = self.consumer.assignment()
        # Partitions that moved away: their new owner re-reads from the last commit (the
        # writes are idempotent), and a commit for them would be refused anyway.
        for tp in [tp for tp in self.uncommitted if tp not in assigned]:
            del self.uncommitted[tp]
        if not self.uncommitted:
            return
        offsets = {tp: OffsetAndMetadata(off, "", -1) for tp, off in self.uncommitted.items()}
        try:
            self.consumer.commit(offsets)
        except CommitFailedError as exc:
            log.warning("commit refused after a rebalance (%s); records will be re-read", exc)
            self.uncommitted.clear()
            return
        except KafkaError as exc:
            # Commits are cumulative: the next one covers these offsets too.
            log.warning("commit failed (%s); will commit with the next batch", exc)
            return
        for tp, off in offsets.items():
            self.committed[tp] = off.offset
        self.uncommitted.clear()
        self._update_lag()

    def _lag_due(self) -> None:
        if time.monotonic() - self.last_lag >= LAG_EVERY_S:
            self._update_lag()

    def _update_lag(self) -> None:
        """Per assigned partition: the broker's end offset minus the group's committed offset
        (records not yet fetched count too). The highest offset read is a floor under the end
        offset, which Tansu reports short (the start of its last batch + 1)."""
        assert self.consumer is not None
        self.last_lag = time.monotonic()
        assigned = list(self.consumer.assignment())
        try:
            ends = self.consumer.end_offsets(assigned) if assigned else {}
        except KafkaError as exc:
            log.warning("end offsets unavailable (%s): lag from what was read", exc)
            ends = {}
        lag: dict[str, int] = {}
        for tp in assigned:
            try:
                if tp not in self.committed:  # once per assignment: where the group stands
                    self.committed[tp] = self.consumer.committed(tp)
                base = self.committed[tp]
                if base is None:  # nothing committed: the group reads from the log start
                    base = self.consumer.beginning_offsets([tp])[tp]
            except KafkaError:
                continue
            end = max(ends.get(tp) or 0, self.seen.get(tp, -1) + 1)
            value = max(0, end - base)
            INDEXER_LAG.labels(tp.topic, str(tp.partition)).set(value)
            lag[f"{tp.topic}/{tp.partition}"] = value
        self.health.lag = lag

    # --- waiting with consumption paused --------------------------------------------------------

    def _wait_paused(self, seconds: float, error: str | None = None) -> None:
        """A backoff that keeps group membership (poll) but fetches nothing (pause)."""
        assert self.consumer is not None
        self.health.paused = True
        self.health.failing_since = (self.health.failing_since if error else None) or (
            self.writer.failing_since or time.monotonic())
        self.health.last_error = error or self.writer.last_error
        self.consumer.pause(*self.consumer.assignment())
        deadline = time.monotonic() + seconds
        while True:
            if self.stopping:
                raise Stopping()
            self.health.touch()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            got = self.consumer.poll(timeout_ms=int(min(left, 0.5) * 1000), max_records=1)
            for tp, records in got.items():
                # Assigned during this poll before we could pause it: give the record back.
                self.consumer.seek(tp, min(r.offset for r in records))
            self.consumer.pause(*self.consumer.assignment())
            self._lag_due()  # a backlog growing while the cluster is down must show

    def _wait_dead_letter(self, seconds: float) -> None:
        self._wait_paused(seconds, error="dead letters cannot be written to Kafka")

    def _resume(self) -> None:
        if self.health.paused and self.consumer is not None:
            self.consumer.resume(*self.consumer.paused())
            self.health.paused = False

    # --- cluster state: re-bootstrap, loss detection, rewind -------------------------------------

    def _rebootstrap(self) -> None:
        self._apply(self.boot.run())

    def _observe_generation(self, generation: str | None) -> None:
        if generation is None:
            return
        if self.generation is not None and generation != self.generation:
            log.error(
                "the data behind %s was recreated (%s -> %s): what was indexed before is gone",
                self.s.es_alias,
                self.generation,
                generation,
            )
            if self.s.indexer_rewind_on_index_loss and self.consumer is not None:
                self.rewind |= set(self.consumer.assignment())
        self.generation = generation
        self.health.generation = generation

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

    def _do_rewind(self) -> set[TopicPartition]:
        """Commit and seek this worker's partitions back to the start; returns those moved."""
        assert self.consumer is not None
        tps = sorted(self.rewind & self.consumer.assignment())
        self.rewind.clear()
        if not tps:
            return set()
        begin = self.consumer.beginning_offsets(tps)
        # Partitions whose group offset is at the start (or absent) have nothing to re-read.
        tps = [tp for tp in tps if (self.consumer.committed(tp) or 0) > begin[tp]]
        if not tps:
            return set()
        # Commit first: a crash right after must not leave offsets pointing past data the
        # new index never received.
        self.consumer.commit({tp: OffsetAndMetadata(begin[tp], "", -1) for tp in tps})
        for tp in tps:
            self.consumer.seek(tp, begin[tp])
            self.committed[tp] = begin[tp]
            self.uncommitted.pop(tp, None)
        self.batch.drop(tps)
        log.warning(
            "re-reading %s from the beginning into the new index",
            ", ".join(f"{tp.topic}/{tp.partition}" for tp in tps),
        )
        return set(tps)

    # --- rebalance callbacks ----------------------------------------------------------------

    def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        if not self.flushing:
            # Not yet written: the next owner (maybe us) re-reads them from the last commit.
            self.batch.drop(revoked)
        for tp in revoked:
            self.committed.pop(tp, None)
            self.seen.pop(tp, None)
            self.first_seen.pop(tp, None)
            try:
                INDEXER_LAG.remove(tp.topic, str(tp.partition))
            except KeyError:
                pass
        self.health.assigned = []

    def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        self.health.assigned = sorted(f"{tp.topic}/{tp.partition}" for tp in assigned)
        log.info("assigned %s", self.health.assigned)
        if self.rewind_on_assign:
            self.rewind |= set(assigned)
            self.rewind_on_assign = False
        if self.health.paused and self.consumer is not None:
            self.consumer.pause(*assigned)


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
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
    if args.bootstrap_only:
        worker.bootstrap_until_ready()
        return 0 if worker.health.bootstrapped else 1
    serve_while(settings.metrics_host, settings.metrics_port or settings.indexer_metrics_port,
                worker.health.check, worker.run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
