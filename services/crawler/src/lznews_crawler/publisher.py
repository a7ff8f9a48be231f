"""Kafka publishing from the Twisted reactor without blocking it.

kafka-python's send() can block (waiting for metadata while the broker is away, or for buffer
space), so it runs on a small thread pool; the acknowledgement comes back to the reactor as a
Deferred that fires only when Kafka has the record (acks=all) or has finally refused it.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kafka import KafkaProducer
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure


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
