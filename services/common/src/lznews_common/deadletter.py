"""Dead-lettering: bad input goes to the dead-letters topic with a reason and is counted."""

from __future__ import annotations

import logging

from kafka import KafkaProducer

from lznews_common.metrics import DEAD_LETTER_PUBLISH_FAILURES, DEAD_LETTERS
from lznews_common.models import DeadLetter
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
