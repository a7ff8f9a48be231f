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
import sys
from datetime import UTC, datetime
from pathlib import Path

from kafka.consumer.fetcher import ConsumerRecord

from lznews_common.consumer import ConsumerWorker, Limits, Polled
from lznews_common.logs import setup_logging
from lznews_common.metrics import ALERT_DELIVERIES, ALERT_DELIVERY_LATENCY
from lznews_common.models import Alert
from lznews_common.settings import Settings, load_settings
from lznews_common.startup import one_line_errors
from lznews_common.topics import ALERTS
from lznews_watcher import digest
from lznews_watcher.webhook import Webhook

log = logging.getLogger("lznews_alert_sink")

POLL_RECORDS = 50


def _refused_for_good(exc: BaseException) -> bool:
    """A digest no file system will take (a name too long, bytes it refuses)."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENAMETOOLONG, errno.EINVAL,
                                                       errno.EILSEQ)


def _digest_may_pass(exc: BaseException) -> bool:
    """A full or read-only disk is waited out; an alert no file can hold is not."""
    return isinstance(exc, OSError) and not _refused_for_good(exc)


class AlertSink(ConsumerWorker[Alert]):
    stage = "alert-sink"

    def __init__(self, settings: Settings, digest_dir: Path | None) -> None:
        super().__init__(
            settings,
            topic=settings.topic(ALERTS),
            group=f"{settings.topic_prefix}{settings.alert_sink_group_id}",
            limits=Limits(max_records=POLL_RECORDS, max_record_bytes=settings.max_alert_bytes,
                          max_record_setting="LZNEWS_MAX_ALERT_BYTES"),
            retry_initial_s=settings.watch_retry_initial_s,
            retry_max_s=settings.watch_retry_max_s,
        )
        self.digest_dir = digest_dir
        self.webhook = Webhook(settings, self.wait) if settings.watch_webhook_url else None
        self.health.detail.update(webhook=bool(self.webhook), digest=str(digest_dir or ""))

    def decode(self, value: bytes) -> Alert:
        return Alert.parse(value)

    def count(self, outcome: str) -> None:
        ALERT_DELIVERIES.labels(
            outcome if outcome == "tombstone_ignored" else "invalid").inc()

    def handle(self, batch: list[Polled[Alert]]) -> None:
        for p in batch:
            self.deliver(p.record, p.message)
            # Alerts delivered before a failure are not POSTed again after a restart.
            self.settle(p.record)

    def deliver(self, record: ConsumerRecord, alert: Alert) -> None:
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
        try:
            self.retrying(_digest_may_pass, "digest")(digest.write, self.digest_dir, alert)
        except OSError as exc:  # only those no retry cures get here
            ALERT_DELIVERIES.labels("dead_lettered").inc()
            self.dead_letter(record, "digest_refused", f"digest not written: {exc}")
            return False
        return True


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
    sink.serve(settings.alert_sink_metrics_port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
