"""Starting a service: one-line errors for what a user must fix, and waiting for Kafka.

A setting that cannot be used, or a Kafka cluster still unreachable after
LZNEWS_STARTUP_WAIT_S, ends the command with one line on stderr and exit status 2 (a
supervisor restarts it; a person reads why), never with a traceback.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import TypeVar

from kafka.errors import KafkaError
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from lznews_common.settings import Settings, SettingsError
from lznews_common.topics import prepare_topics

log = logging.getLogger(__name__)

Main = TypeVar("Main", bound=Callable[..., int])


class SetupError(Exception):
    """Something outside the service keeps it from starting; the message says what."""


def one_line_errors(prog: str) -> Callable[[Main], Main]:
    """Wrap a console entry point: SettingsError and SetupError become `prog: reason`, exit 2."""

    def wrap(main: Main) -> Main:
        @functools.wraps(main)
        def entry(*args: object, **kwargs: object) -> int:
            try:
                return main(*args, **kwargs)
            except SettingsError as exc:
                print(f"{prog}: bad setting: {exc}", file=sys.stderr)
            except SetupError as exc:
                print(f"{prog}: {exc}", file=sys.stderr)
            return 2

        return entry  # type: ignore[return-value]

    return wrap


def prepare_topics_when_reachable(s: Settings) -> list[str]:
    """prepare_topics, waiting up to LZNEWS_STARTUP_WAIT_S for Kafka to answer."""

    def warn(state: object) -> None:
        exc = state.outcome.exception()  # type: ignore[attr-defined]
        log.warning("Kafka at %s not reachable yet (%r); retrying", s.kafka_bootstrap, exc)

    # Each attempt must give up within the wait, not after the client's own 30 s.
    bootstrap_ms = max(1000, int(min(s.startup_wait_s, 30.0) * 1000))
    try:
        for attempt in Retrying(retry=retry_if_exception_type(KafkaError),
                                stop=stop_after_delay(s.startup_wait_s),
                                wait=wait_exponential(multiplier=0.5, max=10),
                                before_sleep=warn, reraise=True):
            with attempt:
                return prepare_topics(s, bootstrap_timeout_ms=bootstrap_ms)
    except KafkaError as exc:
        raise SetupError(f"Kafka at {s.kafka_bootstrap} not reachable after "
                         f"{s.startup_wait_s:g} s ({str(exc) or type(exc).__name__})") from None
    raise AssertionError("unreachable")
