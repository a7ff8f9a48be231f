"""What /healthz reports for a Kafka consumer stage: ready, alive, and what it is waiting for."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

# The loops touch the beat at least every second, waits included: silence this long means stuck.
STUCK_AFTER_S = 120.0


class Stopping(Exception):
    """Raised out of a wait when the service is asked to stop: the batch in flight stays
    uncommitted and is read again on the next start, never half-committed."""


@dataclass
class ConsumerHealth:
    # The name /healthz gives `ready` (the indexer says "bootstrapped": its cluster is laid out).
    ready_name: str = "ready"
    ready: bool = False
    stopping: bool = False
    beat: float = field(default_factory=time.monotonic)
    failing_since: float | None = None  # monotonic time of the first failure in a row
    last_error: str | None = None
    halted: str | None = None  # consumption stopped for good: why
    unhealthy_after_s: float = 300.0
    paused: bool = False  # consumption paused while an output is retried
    assigned: list[str] = field(default_factory=list)
    lag: dict[str, int] = field(default_factory=dict)
    # What the stage adds of its own (matcher kind, analyzer, index generation ...).
    detail: dict[str, Any] = field(default_factory=dict)

    def touch(self) -> None:
        self.beat = time.monotonic()

    def failing(self, error: BaseException | str) -> None:
        self.failing_since = self.failing_since or time.monotonic()
        self.last_error = (error if isinstance(error, str) else repr(error))[:300]

    def ok_again(self) -> None:
        self.failing_since, self.last_error = None, None

    def failing_for(self) -> float | None:
        return None if self.failing_since is None else time.monotonic() - self.failing_since

    def sleep(self, seconds: float) -> None:
        """A wait that keeps the beat and ends early, with Stopping, when asked to stop."""
        deadline = time.monotonic() + seconds
        while True:
            if self.stopping:
                raise Stopping()
            self.touch()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(0.2, left))

    def check(self) -> tuple[bool, dict[str, Any]]:
        stuck = time.monotonic() - self.beat > STUCK_AFTER_S
        failing = self.failing_for()
        # Retrying is the right kind of waiting for a while, never for ever behind a 200.
        failing_long = failing is not None and failing > self.unhealthy_after_s
        ok = self.ready and not stuck and not self.stopping and not self.halted
        return ok and not failing_long, {
            self.ready_name: self.ready,
            "stuck": stuck,
            "halted": self.halted,
            "failing_for_s": None if failing is None else round(failing, 1),
            "last_error": self.last_error,
            "consumption_paused": self.paused,
            "assigned": self.assigned,
            "lag": self.lag,
            **self.detail,
        }
