"""Dead-lettering: bad input goes to the dead-letters topic with a reason and is counted."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from lznews_common.metrics import DEAD_LETTER_PUBLISH_FAILURES, DEAD_LETTERS
from lznews_common.models import DeadLetter
from lznews_common.retry import backoff
from lznews_common.settings import Settings
from lznews_common.topics import DEAD_LETTERS as DEAD_LETTERS_TOPIC

log = logging.getLogger(__name__)


class DeadLetterSink:
    """Writes dead letters synchronously (acks=all) so a caller may commit after it returns."""

    def __init__(self, settings: Settings, producer: KafkaProducer, service: str) -> None:
        self.topic = settings.topic(DEAD_LETTERS_TOPIC)
        self.producer = producer
        self.service = service

    def send(self, letter: DeadLetter, key: bytes | None, timeout_s: float = 30.0) -> None:
        DEAD_LETTERS.labels(self.service, letter.stage, letter.error_type).inc()
        log.warning(
            "dead-letter stage=%s type=%s: %s", letter.stage, letter.error_type, letter.error[:300]
        )
        try:
            self.producer.send(self.topic, key=key, value=letter.to_bytes()).get(timeout=timeout_s)
        except Exception:
            DEAD_LETTER_PUBLISH_FAILURES.labels(self.service).inc()
            raise

    def send_record(self, record: Any, stage: str, error_type: str, error: str,
                    wait: Callable[[float], None], initial_s: float = 0.5,
                    max_s: float = 30.0) -> None:
        """Dead-letter a consumed record, retrying while Kafka is in trouble: the caller commits
        the record's offset only after this returns. `wait` spends each backoff (a consumer
        keeps its group membership there)."""
        letter = DeadLetter.build(stage=stage, error=error, error_type=error_type,
                                  value=record.value, topic=record.topic,
                                  partition=record.partition, offset=record.offset)
        attempt = 0
        while True:
            try:
                self.send(letter, record.key)
                return
            except KafkaError as exc:
                attempt += 1
                log.warning("dead letter not written (%s); retrying", exc)
                wait(backoff(attempt, initial_s, max_s))
