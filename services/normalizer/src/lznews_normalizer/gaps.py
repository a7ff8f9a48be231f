"""Every input record is handled before anything commits over it.

Faust commits what its stream acknowledged, and it counts a jump in the offsets it delivers as
acknowledged too (meant for compacted topics), with no check at all while a partition has no
committed offset yet. After a restart on the local broker, the stream was seen to drop records
it had fetched; Faust then committed past them and they were never normalised. raw-pages is
not compacted, so on it a jump means dropped records: the guard notices it on the next record,
seeks back, and skips the records after the gap until the first missing one comes round again.
What remains is a window of one commit interval (Faust may commit a skipped record before the
re-delivery) in which a crash would lose the gap; before, the gap was lost every time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Literal

from kafka import KafkaConsumer, TopicPartition

from lznews_common import kafka
from lznews_common.settings import Settings

log = logging.getLogger(__name__)

Admit = Literal["handle", "skip", "seek"]


class GapGuard:
    def __init__(self, settings: Settings, group: str) -> None:
        self.settings = settings
        self.group = group
        self.expected: dict[TopicPartition, int] = {}  # next offset to handle
        self.rewinding: set[TopicPartition] = set()

    def known(self, tp: TopicPartition) -> bool:
        return tp in self.expected

    def start(self, tps: Iterable[TopicPartition]) -> None:
        """Where each partition resumes: its committed offset, or the log start (blocking: run
        it off the loop, once per assignment)."""
        tps = list(tps)
        committed = kafka.committed_offsets(self.settings, self.group)
        reader = KafkaConsumer(**kafka.client_config(self.settings), group_id=None,
                               enable_auto_commit=False)
        try:
            begin = reader.beginning_offsets(tps)
        finally:
            reader.close()
        for tp in tps:
            self.expected[tp] = max(committed.get(tp, begin[tp]), begin[tp])

    def forget(self, tps: Iterable[TopicPartition]) -> None:
        for tp in tps:
            self.expected.pop(tp, None)
            self.rewinding.discard(tp)

    def admit(self, tp: TopicPartition, offset: int) -> Admit:
        """handle: in order (or delivered again after a seek); seek: a gap before this record,
        seek back to `expected[tp]` and drop it; skip: after a gap, until the seek takes."""
        want = self.expected[tp]
        if offset <= want:
            self.expected[tp] = offset + 1
            self.rewinding.discard(tp)
            return "handle"
        if tp in self.rewinding:
            return "skip"
        self.rewinding.add(tp)
        log.warning("records %s/%d %d..%d were never delivered: seeking back",
                    tp.topic, tp.partition, want, offset - 1)
        return "seek"
