"""The base every Kafka consumer stage stands on (the indexer, the watcher, the alert sink).

A stage is a small subclass: how to read a record (`decode`), what to do with a batch
(`handle`), what to make ready first (`setup`). The base does the rest, the same way for all:
- poll, batch by count, bytes and age; tombstones are ignored, records over the size limit or
  that do not decode are dead-lettered with the reason, in log order (the good records before a
  bad one are handled first, so a dead letter that cannot be written halts after them);
- commit only what has an outcome: per partition, the unbroken run of settled records (written,
  or dead-lettered); a failure halfway through a batch commits the run before it, never past;
- waits (every retry's backoff) keep the group membership by polling with consumption paused,
  so memory stays bounded by one batch and nothing new is fetched;
- a dead letter that cannot be written halts: /healthz fails with the reason, nothing is
  committed past the record, and a restart reads it again;
- a clean stop handles what it holds; a stop during a retry leaves the batch uncommitted;
- lag per partition is the broker's end offset minus the group's committed offset.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from prometheus_client import Gauge
from tenacity import Retrying

from lznews_common import kafka
from lznews_common.batching import Batch, Limits, Polled, partition_of
from lznews_common.deadletter import DeadLetterFailed, DeadLetterSink, halt, oversize
from lznews_common.health import ConsumerHealth, Stopping
from lznews_common.httpserver import serve_while
from lznews_common.models import MessageError
from lznews_common.offsets import Offsets
from lznews_common.retry import retrying
from lznews_common.settings import Settings
from lznews_common.startup import prepare_topics_when_reachable

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class _Rejected:
    """A record the gate settles: counted as `outcome`, dead-lettered if `error_type`."""

    outcome: str
    error_type: str = ""
    error: str = ""


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, worker: ConsumerWorker[Any]) -> None:
        self.worker = worker

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.worker._revoked(revoked)

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.worker._assigned(assigned)


class ConsumerWorker(Generic[T]):
    stage: ClassVar[str]  # names the service in dead letters and logs
    setup_errors: ClassVar[tuple[type[BaseException], ...]] = ()  # what setup retries on
    lag_gauge: ClassVar[Gauge | None] = None  # labels (topic, partition)

    def __init__(self, settings: Settings, *, topic: str, group: str, limits: Limits,
                 retry_initial_s: float, retry_max_s: float, ready_name: str = "ready",
                 exit_when_idle_s: float | None = None) -> None:
        self.s = settings
        self.topic = topic
        self.group = group
        self.limits = limits
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self.exit_when_idle_s = exit_when_idle_s
        self.health = ConsumerHealth(ready_name=ready_name,
                                     unhealthy_after_s=settings.unhealthy_after_s)
        self.consumer: KafkaConsumer | None = None
        self.producer: KafkaProducer | None = None
        self.dead_letters: DeadLetterSink | None = None
        self.batch = Batch()
        self.handling = False  # a batch is out of the buffer: revocations cannot drop it
        self.settled: set[tuple[TopicPartition, int]] = set()
        self.offsets: Offsets | None = None
        self.to_rewind: set[TopicPartition] = set()
        self.rewind_next_assignment = False
        self.last_record = time.monotonic()
        self.first_record_at: float | None = None

    # --- what a stage says ----------------------------------------------------------------------

    def setup(self) -> None:
        """Make ready what handling needs; errors in `setup_errors` are retried with backoff."""

    def decode(self, value: bytes) -> T:
        """The message in a record's value; MessageError dead-letters the record."""
        raise NotImplementedError

    def handle(self, batch: list[Polled[T]]) -> None:
        """Give every record an outcome (output, or `dead_letter`), or raise: then nothing past
        the records marked `settle`d is committed."""
        raise NotImplementedError

    def count(self, outcome: str) -> None:
        """Count a record the gate settled: tombstone_ignored, too_large or invalid_message."""

    def tick(self) -> None:
        """Work between polls (periodic checks)."""

    # --- what the base gives a stage ----------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self.health.stopping

    def stop(self, *_: Any) -> None:
        self.health.stopping = True

    def check(self) -> tuple[bool, dict[str, Any]]:
        """What /healthz answers."""
        return self.health.check()

    def serve(self, metrics_port: int) -> None:
        """Run until SIGTERM or SIGINT, with /metrics and /healthz on the port
        (LZNEWS_METRICS_PORT wins)."""
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        serve_while(self.s.metrics_host, self.s.metrics_port or metrics_port, self.check,
                    self.run)

    def retrying(self, retry_on: Callable[[BaseException], bool], what: str) -> Retrying:
        """Retries with backoff spent in `wait`; health shows each failure."""
        return retrying(retry_on, initial_s=self.retry_initial_s, max_s=self.retry_max_s,
                        sleep=self.wait, on_retry=self.health.failing, log=log, what=what)

    def wait(self, seconds: float) -> None:
        """A backoff that keeps group membership (poll) but fetches nothing (pause)."""
        consumer = self.consumer
        if consumer is None:
            self.health.sleep(seconds)
            return
        self.health.paused = True
        consumer.pause(*consumer.assignment())
        deadline = time.monotonic() + seconds
        while True:
            if self.stopping:
                raise Stopping()
            self.health.touch()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            got = consumer.poll(timeout_ms=int(min(left, 0.5) * 1000), max_records=1)
            for tp, records in got.items():
                # Assigned during this poll before we could pause it: give the record back.
                consumer.seek(tp, min(r.offset for r in records))
            consumer.pause(*consumer.assignment())
            self._lag_due()  # a backlog growing while the output is down must show

    def _lag_due(self) -> None:
        if self.offsets is not None:
            self.offsets.lag_due()
            self.health.lag = self.offsets.lag

    def dead_letter(self, record: ConsumerRecord, error_type: str, error: str) -> None:
        """Dead-letter `record` and mark it settled; DeadLetterFailed when it cannot be."""
        assert self.dead_letters is not None
        self.dead_letters.send_record(record, self.stage, error_type, error, self.wait,
                                      self.retry_initial_s, self.retry_max_s,
                                      on_retry=self.health.failing)
        self.settle(record)

    def settle(self, record: ConsumerRecord) -> None:
        self.settled.add((partition_of(record), record.offset))

    def rewind(self, partitions: set[TopicPartition]) -> None:
        """Read these partitions again from the log start (committed there first)."""
        self.to_rewind |= partitions

    # --- lifecycle ------------------------------------------------------------------------------

    def setup_until_ready(self) -> bool:
        """Run `setup` until it succeeds; False if asked to stop first."""
        # No consumer yet: `wait` is a plain stoppable sleep.
        retry = self.retrying(lambda exc: isinstance(exc, self.setup_errors),
                              f"{self.stage} setup")
        try:
            retry(self.setup)
        except Stopping:
            return False
        self.health.ready = True
        self.health.ok_again()
        return True

    def run(self) -> None:
        if not self.setup_until_ready():
            return
        prepare_topics_when_reachable(self.s)
        self.producer = kafka.producer(self.s)
        self.dead_letters = DeadLetterSink(self.s, self.producer, self.stage)
        self.consumer = kafka.consumer(self.s, self.group)
        self.offsets = Offsets(self.consumer, self.lag_gauge)
        self.consumer.subscribe([self.topic], listener=_Rebalance(self))
        log.info("%s consuming %s as group %s", self.stage, self.topic, self.group)
        halted: str | None = None
        try:
            self._loop()
            self.flush()  # a clean stop handles what it holds
        except Stopping:
            log.info("stopped during a retry: the batch in flight stays uncommitted")
        except DeadLetterFailed as exc:
            halted = str(exc)  # the record stays uncommitted: re-read after a restart
        finally:
            self.consumer.close(autocommit=False)
            self.producer.close(timeout=10)
            log.info("%s stopped", self.stage)
        if halted:
            halt(self.health, halted)

    def _loop(self) -> None:
        assert self.consumer is not None and self.offsets is not None
        lim = self.limits
        while not self.stopping:
            self.health.touch()
            timeout_s = lim.max_wait_s - self.batch.age() if len(self.batch) else 1.0
            polled = self.consumer.poll(timeout_ms=int(max(0.0, min(timeout_s, 1.0)) * 1000),
                                        max_records=max(1, lim.max_records - len(self.batch)))
            if self.to_rewind:
                # Records just fetched for a rewound partition are read again from the start.
                rewound = self._do_rewind()
                polled = {tp: recs for tp, recs in polled.items() if tp not in rewound}
            for tp, records in polled.items():
                for record in records:
                    self.last_record = time.monotonic()
                    self.first_record_at = self.first_record_at or self.last_record
                    self.offsets.saw(tp, record.offset)
                    size = len(record.value or b"")
                    if len(self.batch) and self.batch.bytes + size > lim.max_bytes:
                        self.flush()
                    self.batch.add(record)
            if len(self.batch) and (len(self.batch) >= lim.max_records
                                    or self.batch.age() >= lim.max_wait_s):
                self.flush()
            self.tick()
            self._lag_due()
            if (self.exit_when_idle_s is not None and not len(self.batch)
                    and self.consumer.assignment()
                    and time.monotonic() - self.last_record >= self.exit_when_idle_s):
                log.info("idle for %.0fs: exiting", self.exit_when_idle_s)
                return

    # --- one batch ------------------------------------------------------------------------------

    def flush(self) -> None:
        records = self.batch.take()
        if not records:
            return
        self.settled = set()
        done = False
        self.handling = True
        try:
            # In log order: the good records before a bad one are handled before it is
            # dead-lettered, so a dead letter that cannot be written halts after them.
            run: list[Polled[T]] = []
            for record in records:
                gated = self._gate(record)
                if not isinstance(gated, _Rejected):
                    run.append(Polled(record, gated))
                    continue
                self.count(gated.outcome)
                if gated.error_type:
                    self._handle(run)
                    run = []
                    self.dead_letter(record, gated.error_type, gated.error)
                else:
                    self.settle(record)
            self._handle(run)
            done = True
        finally:
            self.handling = False
            self._resume()
            assert self.offsets is not None
            self.offsets.done(records, self.settled)
            if done and self.to_rewind:
                self._do_rewind()
            self.offsets.commit()
            self.health.lag = self.offsets.lag
        self.health.ok_again()

    def _handle(self, run: list[Polled[T]]) -> None:
        if run:
            self.handle(run)
            for item in run:
                self.settle(item.record)

    def _gate(self, record: ConsumerRecord) -> T | _Rejected:
        if record.value is None:
            # A tombstone: compaction's "key removed", not a bad message; nothing to write.
            return _Rejected("tombstone_ignored")
        too_large = oversize(record, self.limits.max_record_bytes,
                             self.limits.max_record_setting)
        if too_large:
            return _Rejected("too_large", "too_large", too_large)
        try:
            return self.decode(record.value)
        except MessageError as exc:
            return _Rejected("invalid_message", "MessageError", exc.reason)

    def _resume(self) -> None:
        if self.health.paused and self.consumer is not None:
            self.consumer.resume(*self.consumer.paused())
            self.health.paused = False

    # --- rewind and rebalance ------------------------------------------------------------------

    def _do_rewind(self) -> set[TopicPartition]:
        assert self.offsets is not None
        moved = self.offsets.rewind(self.to_rewind)
        self.to_rewind.clear()
        self.batch.drop(moved)
        return set(moved)

    def _revoked(self, revoked: set[TopicPartition]) -> None:
        if not self.handling:
            # Not yet handled: the next owner (maybe us) re-reads them from the last commit.
            self.batch.drop(revoked)
        if self.offsets is not None:
            self.offsets.revoked(revoked)
        self.health.assigned = []

    def _assigned(self, assigned: set[TopicPartition]) -> None:
        self.health.assigned = sorted(f"{tp.topic}/{tp.partition}" for tp in assigned)
        log.info("assigned %s", self.health.assigned)
        if self.rewind_next_assignment:
            self.rewind(assigned)
            self.rewind_next_assignment = False
        if self.health.paused and self.consumer is not None:
            self.consumer.pause(*assigned)
