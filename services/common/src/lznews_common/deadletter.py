"""Dead-lettering: bad input goes to the dead-letters topic with a reason and is counted.

A dead letter always fits: an original too large to copy under the producer's limit is replaced
by a reference (topic, partition, offset, size, sha256, first bytes). A dead letter that still
cannot be written is retried while the error may pass, for at most LZNEWS_DEAD_LETTER_RETRY_S;
then DeadLetterFailed tells the consumer to stop without committing past the record.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from kafka import KafkaProducer
from kafka.errors import KafkaError
from tenacity import stop_after_delay

from lznews_common.metrics import DEAD_LETTER_PUBLISH_FAILURES, DEAD_LETTERS
from lznews_common.models import DeadLetter
from lznews_common.retry import retrying
from lznews_common.settings import Settings
from lznews_common.topics import DEAD_LETTERS as DEAD_LETTERS_TOPIC

log = logging.getLogger(__name__)

# Room in a dead letter for everything but the copied original (error text, JSON, headers).
_ENVELOPE_BYTES = 64 * 1024
# A key longer than this (a careless producer's) is replaced by its digest.
MAX_KEY_BYTES = 1024


class DeadLetterFailed(Exception):
    """A dead letter could not be written: the consumer stops consuming, commits nothing past
    the record, and reports /healthz unhealthy with this reason."""


def max_inline_bytes(settings: Settings) -> int:
    """The largest original copied into a dead letter: base64 grows it by 4/3, and the letter
    must stay under the producer's request limit."""
    return max(0, (settings.kafka_max_request_bytes - _ENVELOPE_BYTES) * 3 // 4)


def letter_key(key: bytes | None) -> bytes | None:
    if key is None or len(key) <= MAX_KEY_BYTES:
        return key
    return b"sha256:" + hashlib.sha256(key).hexdigest().encode()


def _retriable(exc: BaseException) -> bool:
    # kafka-python marks what may pass (timeouts, leader moves, a broker away); a record too
    # large, an unknown topic or a refused authorisation will not.
    return isinstance(exc, KafkaError) and bool(getattr(exc, "retriable", False))


class DeadLetterSink:
    """Writes dead letters synchronously (acks=all) so a caller may commit after it returns."""

    def __init__(self, settings: Settings, producer: KafkaProducer, service: str) -> None:
        self.topic = settings.topic(DEAD_LETTERS_TOPIC)
        self.producer = producer
        self.service = service
        self.max_inline = max_inline_bytes(settings)
        self.retry_s = settings.dead_letter_retry_s
        self.timeout_s = settings.kafka_request_timeout_ms / 1000

    def send(self, letter: DeadLetter, key: bytes | None) -> None:
        DEAD_LETTERS.labels(self.service, letter.stage, letter.error_type).inc()
        log.warning(
            "dead-letter stage=%s type=%s%s: %s", letter.stage, letter.error_type,
            " (original referenced, not copied)" if letter.referenced else "",
            letter.error[:300],
        )
        try:
            self.producer.send(self.topic, key=letter_key(key),
                               value=letter.to_bytes()).get(timeout=self.timeout_s)
        except Exception:
            DEAD_LETTER_PUBLISH_FAILURES.labels(self.service).inc()
            raise

    def letter(self, record: Any, stage: str, error_type: str, error: str) -> DeadLetter:
        return DeadLetter.build(stage=stage, error=error, error_type=error_type,
                                value=record.value, topic=record.topic,
                                partition=record.partition, offset=record.offset,
                                max_inline_bytes=self.max_inline)

    def send_record(self, record: Any, stage: str, error_type: str, error: str,
                    wait: Callable[[float], None], initial_s: float = 0.5,
                    max_s: float = 30.0,
                    on_retry: Callable[[BaseException], None] | None = None) -> None:
        """Dead-letter a consumed record: the caller commits its offset only after this
        returns. `wait` spends each backoff (a consumer keeps its group membership there);
        `on_retry` hears each failure (health shows it). Raises DeadLetterFailed."""
        letter = self.letter(record, stage, error_type, error)
        retry = retrying(_retriable, initial_s=initial_s, max_s=max_s, sleep=wait,
                         on_retry=on_retry, stop=stop_after_delay(self.retry_s), log=log,
                         what="dead letter")
        try:
            retry(self.send, letter, record.key)
        except KafkaError as exc:
            where = f"{record.topic}/{record.partition}@{record.offset}"
            raise DeadLetterFailed(f"dead letter for {where} not written: {exc!r}") from exc


def oversize(record: Any, limit: int, setting: str) -> str | None:
    """Why a record is too large to read (None if it is not): it is dead-lettered unread."""
    size = len(record.value or b"")
    if size <= limit:
        return None
    return f"record of {size} bytes is over the {limit}-byte limit ({setting})"


class HaltingHealth(Protocol):
    """The part of a consumer's health state that halting uses."""

    stopping: bool
    halted: str | None

    def touch(self) -> None: ...


def halt(health: HaltingHealth, reason: str) -> None:
    """Stop consuming for good: /healthz fails with the reason until the service is stopped.
    The caller has committed nothing past the record; a restart (the supervisor's, on the
    failing probe) reads it again."""
    log.error("consumption stopped: %s", reason)
    health.halted = reason
    while not health.stopping:
        health.touch()
        time.sleep(0.2)
