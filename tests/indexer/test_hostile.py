"""Hostile records on `articles` through the real `lznews-indexer`: a record just under the
topic's size limit, a tombstone, and a dead letter Kafka refuses. Inputs are generated here."""

from __future__ import annotations

import hashlib
import random

from indexer_helpers import as_messages, committed, make_article, produce, wait_committed
from kafka.admin import NewTopic

from lznews_common import kafka
from lznews_common.models import DeadLetter
from lznews_common.search import es_client
from lznews_common.settings import Settings
from lznews_common.topics import DEAD_LETTERS, prepare_topics
from tests.support import read_topic, wait_for

NEAR_LIMIT = (16 << 20) - 4096  # articles' max.message.bytes is 16 MiB


def test_a_record_at_the_size_limit_is_dead_lettered_as_a_reference(idx_settings: Settings,
                                                                     run_indexer) -> None:
    s = idx_settings
    junk = random.Random(14).randbytes(NEAR_LIMIT)
    good = make_article(1)
    ends = produce(s, [(b"junk", junk), (b"gone", b"")] + as_messages([good]))
    # An empty value is not a tombstone; a None value is.
    ends |= produce(s, [(good.id.encode() + b"-deleted", None)])  # type: ignore[list-item]
    worker = run_indexer(s)
    worker.wait_healthy()
    wait_committed(s, ends, timeout_s=90)
    letters = [DeadLetter.parse(r.value) for r in read_topic(s, DEAD_LETTERS, 2, settle_s=2)]
    by_type = {d.error_type: d for d in letters}
    assert sorted(by_type) == ["MessageError", "too_large"]
    ref = by_type["too_large"]
    assert ref.referenced and ref.original_size == len(junk)
    assert ref.original_sha256 == hashlib.sha256(junk).hexdigest()
    assert "LZNEWS_MAX_ARTICLE_BYTES" in ref.error
    assert by_type["MessageError"].original_value == b""
    es = es_client(s)
    es.indices.refresh(index=s.es_alias)
    assert es.count(index=s.es_alias)["count"] == 1
    assert worker.metric("lznews_indexer_documents_total", result="tombstone_ignored") == 1
    assert worker.health()[1]["ok"]
    assert worker.stop() == 0


def test_a_dead_letter_kafka_refuses_halts_without_committing(settings: Settings,
                                                              run_indexer) -> None:
    s = settings.model_copy(update={"es_alias": f"{settings.topic_prefix}lznews-articles",
                                    "topic_partitions": 1, "indexer_bulk_max_wait_s": 0.3,
                                    "indexer_retry_initial_s": 0.2, "indexer_retry_max_s": 1.0,
                                    "indexer_index_replicas": 0})
    # The dead-letters topic takes nothing over 1 KiB: a letter carrying 3 KB of incompressible
    # junk is refused (RecordTooLarge, which no retry cures).
    admin = kafka.admin(s)
    admin.create_topics([NewTopic(s.topic(DEAD_LETTERS), 1, 1,
                                  topic_configs={"max.message.bytes": "1024"})])
    admin.close()
    prepare_topics(s)
    first = produce(s, as_messages([make_article(1)]))
    produce(s, [(b"junk", b"{" + random.Random(3).randbytes(3000))] + as_messages(
        [make_article(2)]))
    worker = run_indexer(s)
    state = wait_for(lambda: (h := worker.health()[1]).get("halted") and h, 90, "a halt")
    assert not state["ok"] and "dead letter" in state["halted"]
    assert worker.health()[0] == 503
    group = f"{s.topic_prefix}{s.indexer_group_id}"
    # Nothing past the first article: the batch with the record that went nowhere stays
    # uncommitted, to be read again after a restart.
    assert all(committed(s, group).get(tp, 0) <= off for tp, off in first.items())
    assert worker.stop() == 0
