"""The gap guard against the real broker: where a partition resumes, and what a jump in the
delivered offsets makes the worker do."""

from __future__ import annotations

import pytest
from kafka.structs import OffsetAndMetadata, TopicPartition

from lznews_common import kafka
from lznews_common.settings import Settings
from lznews_common.topics import RAW_PAGES, prepare_topics
from lznews_normalizer.gaps import GapGuard

pytestmark = pytest.mark.integration


def test_a_jump_in_offsets_seeks_back_and_skips_until_the_gap_is_read(settings: Settings) -> None:
    prepare_topics(settings)
    tp = TopicPartition(settings.topic(RAW_PAGES), 0)
    group = f"{settings.topic_prefix}gap-test"

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
    assert guard.admit(tp, 5) == "seek" and guard.expected[tp] == 3  # 3 and 4 never came
    assert guard.admit(tp, 6) == "skip"  # fetched before the seek took
    assert [guard.admit(tp, o) for o in (3, 4, 5, 6)] == ["handle"] * 4
    assert guard.admit(tp, 4) == "handle"  # delivered again (a rewind): handled, not a gap
    assert guard.expected[tp] == 5
    assert guard.admit(tp, 9) == "seek"  # a second gap is noticed like the first
