"""The alert sink against real Tansu and a local webhook receiver: retries with backoff, then
dead letters with the reason; 4xx refusals dead-lettered at once; bad messages dead-lettered."""

from __future__ import annotations

from datetime import UTC, datetime

from watch_helpers import WebhookReceiver

from lznews_common import kafka
from lznews_common.models import Alert, DeadLetter
from lznews_common.settings import Settings
from lznews_common.topics import ALERTS, DEAD_LETTERS
from lznews_watcher.alert import build_alert
from lznews_watcher.watch import Watch
from tests.indexer.indexer_helpers import make_article
from tests.support import read_topic, wait_for

STATUS = {"flaky": [503, 503, 503], "refused": [400], "recovers": [503, 502, 200]}


def respond(alert: dict, attempt: int) -> int:
    statuses = STATUS[alert["watch"]]
    return statuses[min(attempt, len(statuses)) - 1]


def test_failing_webhook_is_retried_then_dead_lettered(w_settings: Settings, run) -> None:
    receiver = WebhookReceiver(respond)
    s = w_settings.model_copy(
        update={"watch_webhook_url": receiver.url, "watch_webhook_max_attempts": 3}
    )
    alerts = {
        name: build_alert(Watch(name=name, text="科技"), make_article(i), {}, datetime.now(UTC))
        for i, name in enumerate(STATUS)
    }
    producer = kafka.producer(s)
    try:
        for a in alerts.values():
            producer.send(s.topic(ALERTS), key=a.watch_id.encode(), value=a.to_bytes()).get(30)
        producer.send(s.topic(ALERTS), key=b"bad", value=b'{"schema": "lznews.alert/1"}').get(30)
    finally:
        producer.close()

    sink = run("lznews-alert-sink", s)
    try:
        letters = [DeadLetter.parse(r.value) for r in read_topic(s, DEAD_LETTERS, want=3,
                                                                  timeout_s=60, settle_s=2)]
        by_type = {d.error_type: d for d in letters}
        assert set(by_type) == {"webhook_retries_exhausted", "webhook_rejected", "MessageError"}
        assert all(d.stage == "alert-sink" for d in letters)
        exhausted = by_type["webhook_retries_exhausted"]
        assert "3 attempts" in exhausted.error and "HTTP 503" in exhausted.error
        assert Alert.parse(exhausted.original_value).alert_id == alerts["flaky"].alert_id
        assert "HTTP 400" in by_type["webhook_rejected"].error

        assert receiver.attempts(alerts["flaky"].alert_id) == [503, 503, 503]
        assert receiver.attempts(alerts["refused"].alert_id) == [400]  # not retried
        assert receiver.attempts(alerts["recovers"].alert_id) == [503, 502, 200]
        assert [a["alert_id"] for a in receiver.delivered()] == [alerts["recovers"].alert_id]

        wait_for(lambda: sink.metric("lznews_alert_deliveries_total") == 4, 10, "the metrics")
        assert sink.metric("lznews_alert_deliveries_total", result="dead_lettered") == 2
        assert sink.metric("lznews_alert_deliveries_total", result="delivered") == 1
        assert sink.metric("lznews_alert_deliveries_total", result="invalid") == 1
        assert sink.metric("lznews_alert_delivery_failures_total", reason="http_5xx") == 5
        assert sink.metric("lznews_alert_delivery_failures_total", reason="http_4xx") == 1
        assert sink.metric("lznews_dead_letters_total", service="alert-sink") == 3
    finally:
        receiver.close()
