"""The consumer base commits, per partition, only the unbroken run of settled records."""

from __future__ import annotations

from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from lznews_common.batching import Batch
from lznews_common.offsets import settled_prefix


def _record(partition: int, offset: int, value: bytes | None = b"{}") -> ConsumerRecord:
    return ConsumerRecord("t", partition, 0, offset, 0, 0, b"k", value, None, [], 2,
                          len(value or b""), -1)


def test_a_record_without_an_outcome_stops_the_commit_of_its_partition_only() -> None:
    records = [_record(0, 10), _record(1, 5), _record(0, 11), _record(0, 12), _record(1, 6)]
    p0, p1 = TopicPartition("t", 0), TopicPartition("t", 1)
    # 11 has no outcome (its output failed) though 12 was dead-lettered after it.
    settled = {(p0, 10), (p0, 12), (p1, 5), (p1, 6)}
    assert settled_prefix(records, settled) == {p0: 11, p1: 7}


def test_a_partition_whose_first_record_is_unsettled_commits_nothing() -> None:
    records = [_record(0, 3), _record(0, 4)]
    assert settled_prefix(records, {(TopicPartition("t", 0), 4)}) == {}


def test_a_revoked_partition_leaves_the_batch_and_its_bytes() -> None:
    batch = Batch()
    for r in (_record(0, 1, b"abc"), _record(1, 1, b"de"), _record(0, 2, b"f")):
        batch.add(r)
    batch.drop([TopicPartition("t", 0)])
    assert [(r.partition, r.offset) for r in batch.records] == [(1, 1)] and batch.bytes == 2
