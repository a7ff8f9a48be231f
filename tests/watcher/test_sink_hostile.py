"""Hostile records on `alerts` through the real `lznews-alert-sink` and a local webhook: a
record just under the producer's size limit, and a dead letter Kafka refuses (the sink halts,
having committed the alerts it delivered, which a restart does not POST again)."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime

from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from watch_helpers import WebhookReceiver

from lznews_common import kafka
from lznews_common.models import DeadLetter
from lznews_common.settings import Settings
from lznews_common.topics import ALERTS, DEAD_LETTERS, prepare_topics
from lznews_watcher.alert import build_alert
from lznews_watcher.watch import Watch
from tests.indexer.indexer_helpers import make_article
from tests.support import read_topic, wait_for

NEAR_LIMIT = (16 << 20) - 4096  # the producer's request limit (LZNEWS_KAFKA_MAX_REQUEST_BYTES)


def _alert(i: int) -> bytes:
    return build_alert(Watch(name="科技", text="科技"), make_article(i), {},
                       datetime.now(UTC)).to_bytes()


def _send(s: Settings, values: list[bytes]) -> None:
    producer = kafka.producer(s)
    try:
        for value in values:  # one key: one partition, in this order
            producer.send(s.topic(ALERTS), key=b"w", value=value).get(60)
    finally:
        producer.close()


def _committed(s: Settings) -> int:
    got = kafka.committed_offsets(s, f"{s.topic_prefix}{s.alert_sink_group_id}")
    return sum(got.values())


def test_an_alert_record_at_the_size_limit_is_dead_lettered_as_a_reference(
        w_settings: Settings, run) -> None:
    receiver = WebhookReceiver(lambda alert, attempt: 200)
    s = w_settings.model_copy(update={"watch_webhook_url": receiver.url})
    junk = random.Random(4).randbytes(NEAR_LIMIT)
    _send(s, [junk, _alert(1)])
    sink = run("lznews-alert-sink", s)
    try:
        wait_for(lambda: len(receiver.delivered()) == 1, 60, "the valid alert")
        [letter] = [DeadLetter.parse(r.value) for r in read_topic(s, DEAD_LETTERS, 1, settle_s=1)]
        assert letter.error_type == "too_large" and letter.referenced
        assert letter.original_sha256 == hashlib.sha256(junk).hexdigest()
        wait_for(lambda: _committed(s) == 2, 30, "the commit past both")
        assert sink.health()["ok"]
    finally:
        receiver.close()


def test_a_refused_dead_letter_halts_the_sink_after_committing_what_was_delivered(
        settings: Settings, run) -> None:
    receiver = WebhookReceiver(lambda alert, attempt: 200)
    s = settings.model_copy(update={
        "es_alias": f"{settings.topic_prefix}lznews-articles", "watch_webhook_url": receiver.url,
        "watch_retry_initial_s": 0.2, "watch_retry_max_s": 1.0})
    admin = kafka.admin(s)
    dead_topic = s.topic(DEAD_LETTERS)
    admin.create_topics([NewTopic(dead_topic, 1, 1, topic_configs={"max.message.bytes": "1024"})])
    prepare_topics(s)
    first, last = _alert(1), _alert(2)
    _send(s, [first, b"{" + random.Random(3).randbytes(3000), last])
    sink = run("lznews-alert-sink", s)
    try:
        state = wait_for(lambda: (h := sink.health()).get("halted") and h, 60, "a halt")
        assert not state["ok"] and "dead letter" in state["halted"]
        assert len(receiver.delivered()) == 1
        wait_for(lambda: _committed(s) == 1, 30, "the commit of the delivered alert")
        sink.stop()
        # The topic takes large letters again: a restart dead-letters the junk and goes on,
        # without POSTing the first alert a second time.
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, dead_topic,
                                            configs={"max.message.bytes": str(32 << 20)})])
        run("lznews-alert-sink", s)
        wait_for(lambda: len(receiver.delivered()) == 2, 60, "the last alert")
        wait_for(lambda: _committed(s) == 3, 30, "the commit past all three")
        ids = [a["alert_id"] for a in receiver.delivered()]
        assert len(ids) == len(set(ids)) == 2
    finally:
        admin.close()
        receiver.close()
