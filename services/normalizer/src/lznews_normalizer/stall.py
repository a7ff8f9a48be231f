"""Stall detection: input is waiting on this worker's partitions but nothing is processed.

Seen on the local broker after a kill -9: Faust's table recovery, confused by the broker's wrong
end offsets, can leave the stream fetching but never delivering; a restarted worker carries on.
So a stalled worker reports unhealthy and exits, and its supervisor (Kubernetes, Compose,
lznews-run) starts it again. Nothing is lost: offsets are committed only after output was
acknowledged. "Waiting" compares the group's committed offsets with the partitions' end offsets,
which is sound on both brokers (Tansu's end offset is low, but above the committed offset
whenever something is unprocessed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from kafka import KafkaConsumer, TopicPartition

from lznews_common import kafka
from lznews_common.settings import Settings

log = logging.getLogger(__name__)


class StallWatch:
    def __init__(self, settings: Settings, group: str, stall_s: float) -> None:
        self.settings = settings
        self.group = group
        self.stall_s = stall_s
        self.last_progress = time.monotonic()
        self.stalled = False

    def progress(self) -> None:
        self.last_progress = time.monotonic()

    def pending(self, tps: Iterable[TopicPartition]) -> int:
        """Records after the committed offsets of `tps` (blocking: run it off the loop)."""
        tps = list(tps)
        admin = kafka.admin(self.settings)
        reader = KafkaConsumer(**kafka.client_config(self.settings), group_id=None,
                               enable_auto_commit=False)
        try:
            committed = admin.list_group_offsets(self.group).get(self.group, {})
            ends = reader.end_offsets(tps)
        finally:
            reader.close()
            admin.close()
        total = 0
        for tp in tps:
            meta = committed.get(tp)
            done = meta.offset if meta is not None and meta.offset is not None else 0
            total += max(0, ends.get(tp, 0) - max(done, 0))
        return total

    def check(self, tps: Iterable[TopicPartition]) -> bool:
        idle = time.monotonic() - self.last_progress
        if idle < self.stall_s:
            return False
        waiting = self.pending(tps)
        if waiting:
            self.stalled = True
            log.error("stalled: %d records waiting on %s, none processed for %.0f s",
                      waiting, sorted(str(tp) for tp in tps), idle)
        else:
            self.progress()  # idle with nothing to do is fine
        return self.stalled
