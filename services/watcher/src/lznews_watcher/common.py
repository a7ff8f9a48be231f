"""Small pieces the watcher and the alert sink share: the health state."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

# The loops touch the beat at least every second, waits included: silence means stuck.
STUCK_AFTER_S = 120.0


class Stopping(Exception):
    """Raised out of a wait when the service is asked to stop: the batch in flight stays
    uncommitted and is read again on the next start."""


@dataclass
class Health:
    ready: bool = False
    stopping: bool = False
    beat: float = field(default_factory=time.monotonic)
    failing_since: float | None = None
    last_error: str | None = None
    halted: str | None = None  # consumption stopped for good: why
    unhealthy_after_s: float = 300.0
    detail: dict[str, Any] = field(default_factory=dict)

    def touch(self) -> None:
        self.beat = time.monotonic()

    def failing(self, exc: BaseException) -> None:
        self.failing_since = self.failing_since or time.monotonic()
        self.last_error = repr(exc)[:300]

    def ok_again(self) -> None:
        self.failing_since, self.last_error = None, None

    def sleep(self, seconds: float) -> None:
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
        failing = (
            None if self.failing_since is None else round(time.monotonic() - self.failing_since)
        )
        # Retrying is the right kind of waiting for a while, never for ever behind a 200.
        failing_long = failing is not None and failing > self.unhealthy_after_s
        ok = self.ready and not stuck and not self.stopping and not self.halted
        return ok and not failing_long, {
            "ready": self.ready,
            "stuck": stuck,
            "halted": self.halted,
            "failing_for_s": failing,
            "last_error": self.last_error,
            **self.detail,
        }
