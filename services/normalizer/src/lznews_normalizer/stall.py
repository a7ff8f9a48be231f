"""Stall detection: input is waiting on this worker's partitions but nothing is processed.

Seen on Tansu after a kill -9 and restart: the Faust stream drops records it has fetched (while
its flow control was suspended during recovery), so it waits for input that never comes, and its
commits stop at the gap. On any broker it is the worker's liveness check: a worker that cannot
make progress must not stay up behind a healthy /healthz. Time in rebalances and table recovery
is not counted (worker.py). So a stalled worker first seeks its input back
to the committed offsets, which delivers what was dropped; if another window passes without
progress, it reports unhealthy and exits, and its supervisor (Kubernetes, Compose, lznews-run)
starts it again. Neither loses anything: offsets are committed only after output was
acknowledged. "Waiting" means a record can be read at the group's committed offset; the end
offset is not enough, because Tansu's is the start of the last batch + 1, so the rest of a
multi-record batch would look processed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Literal

from kafka import KafkaConsumer, TopicPartition

from lznews_common import kafka
from lznews_common.settings import Settings

log = logging.getLogger(__name__)

Verdict = Literal["ok", "rewind", "exit"]


class StallWatch:
    def __init__(self, settings: Settings, group: str, stall_s: float) -> None:
        self.settings = settings
        self.group = group
        self.stall_s = stall_s
        self.last_progress = time.monotonic()
        self.rewinds = 0  # since the last record processed
        self.resume_at: dict[TopicPartition, int] = {}
        self.stalled = False

    def progress(self) -> None:
        self.last_progress = time.monotonic()
        self.rewinds = 0

    def pending(self, tps: Iterable[TopicPartition], probe_s: float = 3.0) -> int:
        """Records readable after the committed offsets of `tps`, as far as one short read
        shows (blocking: run it off the loop). Where each read started (the committed offset,
        or the beginning where the group has none) is kept in `resume_at` for a rewind."""
        tps = list(tps)
        committed = kafka.committed_offsets(self.settings, self.group)
        reader = KafkaConsumer(**kafka.client_config(self.settings), group_id=None,
                               enable_auto_commit=False, auto_offset_reset="earliest")
        try:
            begin = reader.beginning_offsets(tps)
            start = {tp: committed.get(tp, begin[tp]) for tp in tps}
            reader.assign(tps)
            for tp, offset in start.items():
                reader.seek(tp, offset)
            found: dict[TopicPartition, int] = {}
            deadline = time.monotonic() + probe_s
            while time.monotonic() < deadline and len(found) < len(tps):
                for tp, records in reader.poll(timeout_ms=250).items():
                    found[tp] = found.get(tp, 0) + len(records)
        finally:
            reader.close()
        self.resume_at = start
        return sum(found.values())

    def check(self, tps: Iterable[TopicPartition]) -> Verdict:
        """OK; or stalled: first rewind (seek back to the committed offsets, which re-delivers
        what the stream dropped), and if that brings no progress either, exit."""
        idle = time.monotonic() - self.last_progress
        if idle < self.stall_s:
            return "ok"
        waiting = self.pending(tps)
        if not waiting:
            self.progress()  # idle with nothing to do is fine
            return "ok"
        log.error("stalled: %d records waiting on %s, none processed for %.0f s",
                  waiting, sorted(str(tp) for tp in tps), idle)
        if self.rewinds < 1:
            self.rewinds += 1
            self.last_progress = time.monotonic()  # give the rewind a full window
            return "rewind"
        self.stalled = True
        return "exit"
