"""The stall watch against the real broker: what counts as input waiting, and when a worker
with waiting input and no progress is declared stalled."""

from __future__ import annotations

import time

import pytest
from kafka.structs import OffsetAndMetadata, TopicPartition

from lznews_common import kafka
from lznews_common.settings import Settings
from lznews_common.topics import RAW_PAGES, prepare_topics
from lznews_normalizer.stall import StallWatch

pytestmark = pytest.mark.integration


def _commit(s: Settings, group: str, tp: TopicPartition, offset: int) -> None:
    consumer = kafka.consumer(s, group)
    try:
        consumer.commit({tp: OffsetAndMetadata(offset, "", -1)})
    finally:
        consumer.close(autocommit=False)


def test_records_left_in_a_batch_count_as_waiting(settings: Settings) -> None:
    s = settings
    prepare_topics(s)
    topic = s.topic(RAW_PAGES)
    tp = TopicPartition(topic, 0)
    producer = kafka.producer(s, linger_ms=200)  # one batch of five records
    for i in range(5):
        producer.send(topic, key=b"k", value=f"page {i}".encode(), partition=0)
    producer.flush(30)
    producer.close()

    group = f"{s.topic_prefix}stall-test"
    watch = StallWatch(s, group, stall_s=0.5)
    assert watch.pending([tp]) == 5  # nothing committed: all of it waits
    assert watch.resume_at == {tp: 0}  # a rewind would start at the beginning

    # Committed inside the batch: the broker's end offset (start of the batch + 1) would call
    # this done; three records are still unread.
    _commit(s, group, tp, 2)
    assert watch.pending([tp]) == 3
    assert watch.resume_at == {tp: 2}

    time.sleep(0.6)
    assert watch.check([tp]) == "rewind" and not watch.stalled  # first: seek back
    assert watch.check([tp]) == "ok"  # the rewind gets a full window
    time.sleep(0.6)
    assert watch.check([tp]) == "exit" and watch.stalled  # no progress after it: give up
    watch.progress()
    time.sleep(0.6)
    assert watch.check([tp]) == "rewind"  # progress starts the count again

    _commit(s, group, tp, 5)
    idle = StallWatch(s, group, stall_s=0.5)
    assert idle.pending([tp]) == 0
    time.sleep(0.6)
    assert idle.check([tp]) == "ok" and not idle.stalled  # idle with nothing to do is healthy
