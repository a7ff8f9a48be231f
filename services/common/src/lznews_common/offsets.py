"""A consumer's offset book: what is settled, what to commit, where the group stands.

A record is settled when it has a final outcome (written to the stage's output or
dead-lettered). Per partition only the settled prefix is committed: a record that reached
neither output nor dead letters is never committed past, even when records after it were
settled (a failure halfway through a batch).
"""

from __future__ import annotations

import logging
import time

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError, KafkaError
from kafka.structs import OffsetAndMetadata
from prometheus_client import Gauge

from lznews_common.batching import partition_of

log = logging.getLogger(__name__)

LAG_EVERY_S = 5.0  # how often the lag asks the broker for end offsets


def settled_prefix(records: list[ConsumerRecord],
                   settled: set[tuple[TopicPartition, int]]) -> dict[TopicPartition, int]:
    """Per partition, the offset to commit: one past the last record of the unbroken run of
    settled records from the start of the batch (partitions with none are absent)."""
    by_partition: dict[TopicPartition, list[int]] = {}
    for r in records:
        by_partition.setdefault(partition_of(r), []).append(r.offset)
    out: dict[TopicPartition, int] = {}
    for tp, offsets in by_partition.items():
        for offset in sorted(offsets):
            if (tp, offset) not in settled:
                break
            out[tp] = offset + 1
    return out


def ranges(records: list[ConsumerRecord]) -> str:
    """Which offsets a batch held, per partition: the trail for a record that went missing."""
    spans: dict[int, list[int]] = {}
    for r in records:
        spans.setdefault(r.partition, []).append(r.offset)
    return " ".join(f"p{p}:{min(o)}-{max(o)}({len(o)})" for p, o in sorted(spans.items()))


class Offsets:
    """Where the group stands per assigned partition: what to commit next, what is committed,
    what was read, and the lag; commits are cumulative, so a failed one is covered by the next."""

    def __init__(self, consumer: KafkaConsumer, lag_gauge: Gauge | None = None) -> None:
        self.consumer = consumer
        self.lag_gauge = lag_gauge
        self.uncommitted: dict[TopicPartition, int] = {}  # next offset to commit
        self.committed: dict[TopicPartition, int | None] = {}
        self.seen: dict[TopicPartition, int] = {}  # highest offset read
        self.lag: dict[str, int] = {}
        self.last_lag = 0.0

    def saw(self, tp: TopicPartition, offset: int) -> None:
        if tp not in self.seen:
            log.info("reading %s/%d from offset %d", tp.topic, tp.partition, offset)
        self.seen[tp] = max(self.seen.get(tp, -1), offset)

    def done(self, records: list[ConsumerRecord],
             settled: set[tuple[TopicPartition, int]]) -> None:
        for tp, offset in settled_prefix(records, settled).items():
            self.uncommitted[tp] = max(self.uncommitted.get(tp, 0), offset)

    def commit(self) -> None:
        assigned = self.consumer.assignment()
        # Partitions that moved away: their new owner re-reads from the last commit (the
        # outputs are idempotent), and a commit for them would be refused anyway.
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
            log.warning("commit failed (%s); will commit with the next batch", exc)
            return
        for tp, off in offsets.items():
            self.committed[tp] = off.offset
        self.uncommitted.clear()
        self.update_lag()

    def rewind(self, partitions: set[TopicPartition]) -> list[TopicPartition]:
        """Commit and seek `partitions` back to the log start; returns those moved (a
        partition whose group offset is at the start, or absent, has nothing to re-read)."""
        tps = sorted(partitions & self.consumer.assignment())
        if not tps:
            return []
        begin = self.consumer.beginning_offsets(tps)
        tps = [tp for tp in tps if (self.consumer.committed(tp) or 0) > begin[tp]]
        if not tps:
            return []
        # Commit first: a crash right after must not leave offsets pointing past output that
        # is gone.
        self.consumer.commit({tp: OffsetAndMetadata(begin[tp], "", -1) for tp in tps})
        for tp in tps:
            self.consumer.seek(tp, begin[tp])
            self.committed[tp] = begin[tp]
            self.uncommitted.pop(tp, None)
        log.warning("re-reading %s from the beginning",
                    ", ".join(f"{tp.topic}/{tp.partition}" for tp in tps))
        return tps

    def revoked(self, revoked: set[TopicPartition]) -> None:
        for tp in revoked:
            self.committed.pop(tp, None)
            self.seen.pop(tp, None)
            if self.lag_gauge is not None:
                try:
                    self.lag_gauge.remove(tp.topic, str(tp.partition))
                except KeyError:
                    pass

    def lag_due(self) -> None:
        if time.monotonic() - self.last_lag >= LAG_EVERY_S:
            self.update_lag()

    def update_lag(self) -> None:
        """Per assigned partition: the broker's end offset minus the group's committed offset
        (records not yet fetched count too). The highest offset read is a floor under the end
        offset, which Tansu reports short (the start of its last batch + 1)."""
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
            lag[f"{tp.topic}/{tp.partition}"] = value = max(0, end - base)
            if self.lag_gauge is not None:
                self.lag_gauge.labels(tp.topic, str(tp.partition)).set(value)
        self.lag = lag
