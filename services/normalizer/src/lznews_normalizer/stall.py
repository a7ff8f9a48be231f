"""Stall detection: input is waiting on this worker's partitions but nothing is processed.

Seen on the local broker after a kill -9: Faust's table recovery, confused by the broker's wrong
end offsets, can leave the stream fetching but never delivering; a restarted worker carries on.
Seen too: after a restart, the stream drops a record it fetched while Faust's flow control
was suspended, and its commits stop at that gap. So a stalled worker first seeks its input back
to the committed offsets (what was dropped is delivered again); if that does not help either,
it reports unhealthy and exits, and its supervisor (Kubernetes, Compose, lznews-run) starts it
again. Nothing is lost: offsets are committed only after output was
acknowledged. "Waiting" means a record can be read at the group's committed offset: asking
for the end offset is not enough, because Tansu's is the start of the last batch + 1, so the
rest of a multi-record batch would look processed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any, Literal

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
        admin = kafka.admin(self.settings)
        reader = KafkaConsumer(**kafka.client_config(self.settings), group_id=None,
                               enable_auto_commit=False, auto_offset_reset="earliest")
        try:
            committed = admin.list_group_offsets(self.group).get(self.group, {})
            begin = reader.beginning_offsets(tps)
            start: dict[TopicPartition, int] = {}
            for tp in tps:
                meta = committed.get(tp)
                ok = meta is not None and meta.offset is not None and meta.offset >= 0
                start[tp] = meta.offset if ok else begin[tp]  # type: ignore[union-attr]
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
            admin.close()
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
