"""What /healthz reports for the indexer: alive, bootstrapped, and what it is waiting for."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

# The loop polls at least every second, retries included; silence this long means it is stuck.
STUCK_AFTER_S = 120.0


@dataclass
class HealthState:
    started: float = field(default_factory=time.time)
    beat: float = field(default_factory=time.monotonic)
    bootstrapped: bool = False
    stopping: bool = False
    analyzer: str | None = None
    lifecycle: str | None = None
    rollover_api: bool | None = None
    generation: str | None = None
    assigned: list[str] = field(default_factory=list)
    paused: bool = False
    failing_since: float | None = None  # monotonic
    last_error: str | None = None
    last_bulk_success: float | None = None  # epoch seconds
    lag: dict[str, int] = field(default_factory=dict)
    # Consumption stopped for good (a dead letter that could not be written): the reason.
    halted: str | None = None
    unhealthy_after_s: float = 300.0

    def touch(self) -> None:
        self.beat = time.monotonic()

    def check(self) -> tuple[bool, dict[str, Any]]:
        now = time.monotonic()
        stuck = now - self.beat > STUCK_AFTER_S
        # An unreachable cluster is the right kind of waiting (paused, nothing committed) for a
        # while; failing for longer is reported unhealthy, so it is never retried forever
        # behind a healthy face.
        failing_long = (self.failing_since is not None
                        and now - self.failing_since > self.unhealthy_after_s)
        ok = (self.bootstrapped and not stuck and not self.stopping and not self.halted
              and not failing_long)
        return ok, {
            "bootstrapped": self.bootstrapped,
            "stuck": stuck,
            "halted": self.halted,
            "analyzer": self.analyzer,
            "lifecycle": self.lifecycle,
            "rollover_api": self.rollover_api,
            "index_generation": self.generation,
            "assigned": self.assigned,
            "consumption_paused": self.paused,
            "search_cluster": "failing" if self.failing_since is not None else "ok",
            "failing_for_s": None
            if self.failing_since is None
            else round(now - self.failing_since, 1),
            "last_error": self.last_error,
            "last_bulk_success": self.last_bulk_success,
            "lag": self.lag,
        }
