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

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

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


def _await_chain(coro: Any) -> list[str]:
    """The frames a suspended coroutine is parked in, outermost first (Task.get_stack shows
    only the outermost one)."""
    out: list[str] = []
    while coro is not None and len(out) < 30:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is None:
            if out or not hasattr(coro, "cr_await"):
                out.append(f"    awaiting {coro!r}"[:300])
            break
        out.append(f"    {frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return out


def task_stacks(limit: int = 60) -> str:
    """Where every asyncio task of the running loop waits: logged when a stall is declared, so
    the next one says what it was stuck on."""
    lines: list[str] = []
    for task in list(asyncio.all_tasks())[:limit]:
        lines.append(f"--- {task.get_name()}")
        lines.extend(_await_chain(task.get_coro()))
    return "\n".join(lines)


def faust_state(app: Any) -> str:
    """The consumer's view of its partitions: flow, generation, active/paused/buffered sets, and
    aiokafka's position, highwater and pause per partition."""
    c = app.consumer
    lines = [f"flow_active={app.flow_control.is_active()} consumer.flow_active={c.flow_active} "
             f"generation={app.consumer_generation_id} in_recovery={app.in_recovery}",
             f"active={sorted(map(str, c._active_partitions or ()))}",
             f"paused={sorted(map(str, c._paused_partitions))}",
             f"buffered={sorted(map(str, c._buffered_partitions))}",
             f"read_offset={dict(c._read_offset)} committed={dict(c._committed_offset)}"]
    inner = getattr(c._thread, "_consumer", None)
    if inner is not None:
        subs = inner._subscription
        for tp in sorted(inner.assignment()):
            st = subs.subscription.assignment.state_value(tp)
            lines.append(f"{tp}: position={st._position} highwater={st.highwater} "
                         f"paused={st.paused} coordinator_generation="
                         f"{inner._coordinator.generation}")
    return "\n".join(lines)
