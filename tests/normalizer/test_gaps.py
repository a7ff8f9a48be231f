"""The gap guard against the real broker: where a partition resumes, what a jump in the delivered
offsets makes the worker do, and that jumps with nothing behind them (a transactional producer's
commit markers, a log start moved by delete_records) are handled, not skipped for ever."""

from __future__ import annotations

import uuid

import pytest
from kafka.structs import OffsetAndMetadata, TopicPartition

from lznews_common import kafka
from lznews_common.settings import Settings
from lznews_common.topics import RAW_PAGES, prepare_topics
from lznews_devstack.stack import LocalStack
from lznews_normalizer.gaps import GapGuard

pytestmark = pytest.mark.integration


def _produce(settings: Settings, tp: TopicPartition, n: int, **producer_cfg: object) -> None:
    producer = kafka.producer(settings, **producer_cfg)
    transactional = "transactional_id" in producer_cfg
    if transactional:
        producer.init_transactions()
    for i in range(n):
        if transactional:
            producer.begin_transaction()
        producer.send(tp.topic, partition=tp.partition, key=b"k%d" % i, value=b"v%d" % i)
        if transactional:
            producer.commit_transaction()  # writes a commit marker: one offset, no record
    producer.flush(30)
    producer.close()


def _offsets(settings: Settings, tp: TopicPartition) -> list[int]:
    reader = GapGuard(settings, "unused")._reader()
    try:
        reader.assign([tp])
        reader.seek_to_beginning(tp)
        seen: list[int] = []
        for _ in range(20):
            seen += [r.offset for r in reader.poll(timeout_ms=300).get(tp, [])]
        return seen
    finally:
        reader.close()


def test_a_dropped_range_seeks_back_and_skips_until_it_is_read(settings: Settings) -> None:
    prepare_topics(settings)
    tp = TopicPartition(settings.topic(RAW_PAGES), 0)
    group = f"{settings.topic_prefix}gap-test"
    _produce(settings, tp, 10)

    guard = GapGuard(settings, group)
    assert not guard.known(tp)
    guard.start([tp])
    assert guard.expected[tp] == 0  # nothing committed: from the log start

    consumer = kafka.consumer(settings, group)
    consumer.commit({tp: OffsetAndMetadata(2, "", -1)})
    consumer.close(autocommit=False)
    guard.forget([tp])
    guard.start([tp])
    assert guard.expected[tp] == 2  # resumes at the committed offset

    assert guard.admit(tp, 2) == "handle"
    assert guard.admit(tp, 5) == "gap"
    assert guard.resolve(tp, 5) == "seek" and guard.expected[tp] == 3  # 3 and 4 exist
    assert guard.admit(tp, 6) == "skip"  # fetched before the seek took
    assert [guard.admit(tp, o) for o in (3, 4, 5, 6)] == ["handle"] * 4
    assert guard.admit(tp, 4) == "handle"  # delivered again (a rewind): handled, not a gap
    assert guard.expected[tp] == 5
    assert guard.admit(tp, 9) == "gap"  # a second gap is noticed like the first
    assert guard.resolve(tp, 9) == "seek"


def test_transaction_markers_are_not_taken_for_dropped_records(
    settings: Settings, stack: LocalStack
) -> None:
    if stack.kafka_kind != "apache":
        pytest.skip("Tansu has no working transactions (LOCAL-STACK.md)")
    prepare_topics(settings)
    tp = TopicPartition(settings.topic(RAW_PAGES), 1)
    _produce(settings, tp, 4, transactional_id=f"gap-{uuid.uuid4().hex[:8]}",
             enable_idempotence=True)
    offsets = _offsets(settings, tp)
    assert offsets == [0, 2, 4, 6]  # every other offset is a marker the consumer never sees

    guard = GapGuard(settings, f"{settings.topic_prefix}gap-test")
    guard.start([tp])
    handled = []
    for offset in offsets:
        verdict = guard.admit(tp, offset)
        if verdict == "gap":
            verdict = guard.resolve(tp, offset)
        handled.append((offset, verdict))
    assert handled == [(0, "handle"), (2, "handle"), (4, "handle"), (6, "handle")]


def test_a_log_start_moved_past_the_expected_offset_is_followed(
    settings: Settings, stack: LocalStack
) -> None:
    if stack.kafka_kind != "apache":
        pytest.skip("delete_records makes Tansu panic (LOCAL-STACK.md)")
    prepare_topics(settings)
    tp = TopicPartition(settings.topic(RAW_PAGES), 2)
    _produce(settings, tp, 10)
    guard = GapGuard(settings, f"{settings.topic_prefix}gap-test")
    guard.start([tp])
    assert guard.admit(tp, 0) == "handle" and guard.admit(tp, 1) == "handle"

    admin = kafka.admin(settings)
    try:
        admin.delete_records({tp: 6})  # retention, as it were, took 2..5 before they were read
    finally:
        admin.close()
    assert guard.admit(tp, 6) == "gap"
    assert guard.resolve(tp, 6) == "handle"
    assert [guard.admit(tp, o) for o in (7, 8, 9)] == ["handle"] * 3
