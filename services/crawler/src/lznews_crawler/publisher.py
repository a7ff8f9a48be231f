"""Kafka publishing from the Twisted reactor without blocking it.

kafka-python's send() can block (waiting for metadata while the broker is away, or for buffer
space), so it runs on a small thread pool; the acknowledgement comes back to the reactor as a
Deferred that fires only when Kafka has the record (acks=all) or has finally refused it.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError
from scrapy.utils.defer import maybe_deferred_to_future
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_before_delay,
    stop_never,
    wait_exponential,
)
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from lznews_common import kafka
from lznews_common.settings import Settings
from lznews_common.topics import prepare_topics

log = logging.getLogger(__name__)


def _producer(s: Settings) -> KafkaProducer:
    """One attempt: create the topics and a producer."""
    prepare_topics(s)
    timeout_ms = int(s.crawler_publish_timeout_s * 1000)
    return kafka.producer(
        s,
        max_block_ms=timeout_ms,
        delivery_timeout_ms=max(timeout_ms, s.kafka_request_timeout_ms + 1000),
    )


async def _attempt(s: Settings) -> KafkaProducer:
    """`_producer` on a reactor pool thread, which lives as long as the process. (A producer
    created on a short-lived daemon thread stalled for good in the broker-outage test.)"""
    return await maybe_deferred_to_future(deferToThread(_producer, s))


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    delay = state.next_action.sleep if state.next_action else 0.0
    log.warning("Kafka not reachable (%s); retrying in %.0f s", error, delay)


async def connect(s: Settings, wait_s: float | None) -> KafkaProducer:
    """Create the topics and a producer, waiting for Kafka (forever if wait_s is None; else
    giving up when the next wait would pass wait_s). Each attempt runs on a thread and the
    waits (1 s, doubling up to 30 s) are the event loop's, so the reactor stays free while
    Kafka is away; a SIGTERM then stops the crawler once the attempt under way has ended."""
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(KafkaError),
        wait=wait_exponential(max=30),
        stop=stop_never if wait_s is None else stop_before_delay(wait_s),
        before_sleep=_log_retry,
        reraise=True,
    )
    return await retrying(_attempt, s)


class Publisher:
    def __init__(self, producer: KafkaProducer) -> None:
        self.producer = producer
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kafka-send")
        self.last_ack: float | None = None
        self.last_error: str | None = None
        self.failing_since: float | None = None  # monotonic, first failure in a row

    def send(self, topic: str, key: bytes, value: bytes) -> Deferred[Any]:
        from twisted.internet import reactor  # imported late: Scrapy chooses the reactor

        d: Deferred[Any] = Deferred()

        def ok(metadata: Any) -> None:
            self.last_ack, self.last_error, self.failing_since = time.time(), None, None
            reactor.callFromThread(d.callback, metadata)  # type: ignore[attr-defined]

        def failed(exc: BaseException) -> None:
            self.last_error = repr(exc)
            self.failing_since = self.failing_since or time.monotonic()
            reactor.callFromThread(d.errback, Failure(exc))  # type: ignore[attr-defined]

        def work() -> None:
            try:
                future = self.producer.send(topic, key=key, value=value)
            except Exception as exc:  # metadata timeout, buffer full, record too large
                failed(exc)
                return
            future.add_callback(ok)
            future.add_errback(failed)

        self._pool.submit(work)
        return d

    def failing_for(self) -> float | None:
        """Seconds Kafka has refused every page (None while it takes them)."""
        since = self.failing_since
        return None if since is None else time.monotonic() - since

    def close(self, timeout_s: float = 10.0) -> None:
        self._pool.shutdown(wait=True)
        try:
            self.producer.flush(timeout=timeout_s)
        finally:
            self.producer.close(timeout=timeout_s)
