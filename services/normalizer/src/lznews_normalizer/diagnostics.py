"""What a stalled worker logs before it rewinds or exits: Faust's view of its partitions and
where every asyncio task waits. Reaches into Faust's and aiokafka's internals; diagnostics only."""

from __future__ import annotations

import asyncio
from typing import Any


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
