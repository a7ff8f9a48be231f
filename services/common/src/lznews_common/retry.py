"""Backoff shared by every retry of the services, as tenacity strategies."""

from __future__ import annotations

import logging
from collections.abc import Callable

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_never,
    wait_exponential,
    wait_random_exponential,
)
from tenacity.stop import stop_base
from tenacity.wait import wait_base


def backoff_wait(initial_s: float, max_s: float) -> wait_base:
    """Exponential backoff with jitter: somewhere in the upper half of
    min(max_s, initial_s * 2^(attempt-1)), so replicas that failed together do not retry
    together, and no wait is ever much shorter than the doubling promises."""
    half = wait_exponential(multiplier=initial_s / 2, max=max_s / 2)
    return half + wait_random_exponential(multiplier=initial_s / 2, max=max_s / 2)


def retrying(
    retry_on: Callable[[BaseException], bool],
    *,
    initial_s: float,
    max_s: float,
    sleep: Callable[[float], None],
    on_retry: Callable[[BaseException], None] | None = None,
    stop: stop_base = stop_never,
    log: logging.Logger | None = None,
    what: str = "call",
) -> Retrying:
    """A tenacity retryer that spends its waits in `sleep` (a consumer keeps its group
    membership there; Stopping raised there ends the retries), tells `on_retry` of each
    failure (health shows it) and re-raises the last error when it gives up."""

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if exc is None:
            return
        if log is not None:
            log.warning("%s failed (%s); retrying in %.1fs", what, str(exc)[:300],
                        state.upcoming_sleep)
        if on_retry is not None:
            on_retry(exc)

    return Retrying(retry=retry_if_exception(retry_on), wait=backoff_wait(initial_s, max_s),
                    stop=stop, sleep=sleep, before_sleep=before_sleep, reraise=True)
