"""lznews-alert-sink: deliver alerts from the `alerts` topic to a webhook and/or daily digests.

A kafka-python consumer group (LZNEWS_ALERT_SINK_GROUP_ID). Each alert is written to its
digest (if enabled), then POSTed to LZNEWS_WATCH_WEBHOOK_URL (if set) with retries; an alert
the webhook refuses (4xx other than 408/429) or that fails every attempt is dead-lettered with
the reason. Offsets are committed only after every alert of the batch was delivered or
dead-lettered, so delivery is at least once: a crash after a POST re-sends it, with the same
Idempotency-Key (the alert id) for the receiver to deduplicate.
"""

from __future__ import annotations

import argparse
import errno
import logging
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError, KafkaError
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_exponential_jitter

from lznews_common import kafka
from lznews_common.deadletter import DeadLetterFailed, DeadLetterSink, halt, oversize
from lznews_common.httpserver import serve_while
from lznews_common.logs import setup_logging
from lznews_common.metrics import ALERT_DELIVERIES, ALERT_DELIVERY_LATENCY
from lznews_common.models import Alert, MessageError
from lznews_common.settings import Settings, load_settings
from lznews_common.startup import one_line_errors, prepare_topics_when_reachable
from lznews_common.topics import ALERTS
from lznews_watcher import digest
from lznews_watcher.common import Health, Stopping
from lznews_watcher.webhook import Webhook

log = logging.getLogger("lznews_alert_sink")

STAGE = "alert-sink"


def _refused_for_good(exc: BaseException) -> bool:
    """A digest no file system will take (a name too long, bytes it refuses)."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENAMETOOLONG, errno.EINVAL,
                                                       errno.EILSEQ)


class AlertSink:
    def __init__(self, settings: Settings, digest_dir: Path | None) -> None:
        self.s = settings
        self.topic = settings.topic(ALERTS)
        self.group = f"{settings.topic_prefix}{settings.alert_sink_group_id}"
        self.digest_dir = digest_dir
        self.health = Health(unhealthy_after_s=settings.unhealthy_after_s)
        self.webhook = Webhook(settings, self.health.sleep) if settings.watch_webhook_url else None
        self.consumer: KafkaConsumer | None = None
        self.sink: DeadLetterSink | None = None
        self.health.detail.update(webhook=bool(self.webhook), digest=str(digest_dir or ""))

    def stop(self, *_: Any) -> None:
        self.health.stopping = True

    def run(self) -> None:
        prepare_topics_when_reachable(self.s)
        producer = kafka.producer(self.s)
        self.sink = DeadLetterSink(self.s, producer, STAGE)
        self.consumer = kafka.consumer(self.s, self.group, self.topic)
        self.health.ready = True
        log.info("delivering %s as group %s", self.topic, self.group)
        halted: str | None = None
        try:
            while not self.health.stopping:
                self.health.touch()
                polled = self.consumer.poll(timeout_ms=1000, max_records=50)
                records = [r for recs in polled.values() for r in recs]
                done: list[ConsumerRecord] = []
                try:
                    for record in records:
                        self.handle(record)
                        done.append(record)
                finally:
                    # Alerts delivered before a failure are not POSTed again after a restart.
                    if done:
                        self.commit(done)
        except Stopping:
            log.info("stopped while retrying: the alerts in flight stay uncommitted")
        except DeadLetterFailed as exc:
            halted = str(exc)
        finally:
            self.consumer.close(autocommit=False)
            producer.close(timeout=10)
            log.info("alert sink stopped")
        if halted:
            halt(self.health, halted)

    def handle(self, record: ConsumerRecord) -> None:
        too_large = oversize(record, self.s.max_alert_bytes, "LZNEWS_MAX_ALERT_BYTES")
        if too_large:
            ALERT_DELIVERIES.labels("invalid").inc()
            self.dead_letter(record, "too_large", too_large)
            return
        try:
            alert = Alert.parse(record.value)
        except MessageError as exc:
            ALERT_DELIVERIES.labels("invalid").inc()
            self.dead_letter(record, "MessageError", exc.reason)
            return
        if self.digest_dir is not None and not self.write_digest(record, alert):
            return
        if self.webhook is None:
            ALERT_DELIVERIES.labels("digest_only").inc()
            return
        outcome = self.webhook.deliver(alert)
        if outcome.delivered:
            ALERT_DELIVERIES.labels("delivered").inc()
            age = (datetime.now(UTC) - alert.matched_at).total_seconds()
            ALERT_DELIVERY_LATENCY.observe(max(0.0, age))
            self.health.ok_again()
            return
        ALERT_DELIVERIES.labels("dead_lettered").inc()
        self.health.last_error = outcome.detail
        self.dead_letter(record, outcome.reason, f"{outcome.detail} ({self.webhook.url})")

    def write_digest(self, record: ConsumerRecord, alert: Alert) -> bool:
        """False if the alert was dead-lettered instead. A full or read-only disk is waited
        out (health shows it); an alert no file can hold is dead-lettered."""
        assert self.digest_dir is not None

        def waiting(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning("digest not written (%s); retrying", exc)
            if exc is not None:
                self.health.failing(exc)

        retrying = Retrying(
            retry=retry_if_exception(
                lambda exc: isinstance(exc, OSError) and not _refused_for_good(exc)),
            wait=wait_exponential_jitter(initial=self.s.watch_retry_initial_s,
                                         max=self.s.watch_retry_max_s),
            sleep=self.health.sleep, before_sleep=waiting, reraise=True,
        )
        try:
            retrying(digest.write, self.digest_dir, alert)
        except OSError as exc:  # only those no retry cures get here
            ALERT_DELIVERIES.labels("dead_lettered").inc()
            self.dead_letter(record, "digest_refused", f"digest not written: {exc}")
            return False
        if retrying.statistics.get("attempt_number", 1) > 1:
            self.health.ok_again()
        return True

    def dead_letter(self, record: ConsumerRecord, error_type: str, error: str) -> None:
        assert self.sink is not None
        self.sink.send_record(record, STAGE, error_type, error, self.health.sleep,
                              self.s.watch_retry_initial_s, self.s.watch_retry_max_s,
                              on_retry=self.health.failing)

    def commit(self, records: list[ConsumerRecord]) -> None:
        assert self.consumer is not None
        try:
            self.consumer.commit(kafka.offsets_after(records))
        except (CommitFailedError, KafkaError) as exc:
            log.warning("commit failed (%s); these alerts may be delivered again", exc)


@one_line_errors("lznews-alert-sink")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="lznews-alert-sink",
        description="Deliver alerts to LZNEWS_WATCH_WEBHOOK_URL and/or daily Markdown digests.",
    )
    parser.add_argument("--digest", type=Path, metavar="DIR",
                        help="write DIR/<watch>/<YYYY-MM-DD>.md (default LZNEWS_WATCH_DIGEST_DIR)")
    args = parser.parse_args(argv)
    settings = load_settings()
    setup_logging(settings)
    digest_dir = args.digest or (Path(settings.watch_digest_dir)
                                 if settings.watch_digest_dir else None)
    if digest_dir is None and not settings.watch_webhook_url:
        parser.error("nothing to deliver to: set LZNEWS_WATCH_WEBHOOK_URL and/or --digest DIR")
    sink = AlertSink(settings, digest_dir)
    signal.signal(signal.SIGTERM, sink.stop)
    signal.signal(signal.SIGINT, sink.stop)
    serve_while(settings.metrics_host, settings.metrics_port or settings.alert_sink_metrics_port,
                sink.health.check, sink.run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
