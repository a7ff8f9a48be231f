"""The worker end to end against real Tansu and osmem: idempotent replays, newest fetch wins,
dead letters for bad input, metrics and /healthz."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from indexer_helpers import (
    as_messages,
    make_article,
    produce,
    snapshot,
    wait_committed,
)

from lznews_common.models import DeadLetter
from lznews_common.search import es_client
from lznews_common.settings import Settings
from lznews_common.topics import DEAD_LETTERS
from lznews_indexer.bulk import version_of
from tests.support import read_topic


def test_replaying_the_topic_twice_gives_the_same_index(idx_settings: Settings, run_indexer):
    s = idx_settings
    articles = [make_article(i) for i in range(40)]
    # Article 0 arrives again with an older fetch (must lose) and article 1 with a newer one
    # (must win): external versioning on fetched_at.
    older = make_article(0, fetched_at=articles[0].fetched_at - timedelta(hours=1), title="旧稿")
    newer = make_article(1, fetched_at=articles[1].fetched_at + timedelta(hours=1), title="新稿")
    # Article 2 normalised again from the same fetch (the normaliser re-run): it wins too.
    renormalised = articles[2].model_copy(
        update={"normalized_at": articles[2].normalized_at + timedelta(days=1), "title": "重排"}
    )
    ends = produce(s, as_messages([*articles, older, newer, renormalised]))

    first = run_indexer(s)
    first.wait_healthy()
    wait_committed(s, ends)
    es = es_client(s)
    before = snapshot(es, s.es_alias)
    assert len(before) == 40
    assert before[articles[0].id][2]["title"] == articles[0].title
    assert before[articles[1].id][2]["title"] == "新稿"
    assert before[articles[1].id][0] == version_of(newer.fetched_at, newer.normalized_at)
    assert before[articles[2].id][2]["title"] == "重排"
    assert first.metric("lznews_indexer_documents_total", result="version_conflict") >= 1
    assert first.metric("lznews_indexer_last_bulk_success_timestamp_seconds") > 0
    assert first.metric("lznews_fetch_to_searchable_seconds_count") >= 40
    assert first.stop() == 0

    # Replay 1: a new consumer group reads the whole topic again.
    replay = s.model_copy(update={"indexer_group_id": "replay-1"})
    second = run_indexer(replay)
    wait_committed(replay, ends)
    assert snapshot(es, s.es_alias) == before  # not even _seq_no moved
    conflicts = second.metric("lznews_indexer_documents_total", result="version_conflict")
    assert conflicts == 43  # every copy, counted, not an error
    assert second.metric("lznews_indexer_item_failures_total") == 0
    assert second.metric("lznews_dead_letters_total") == 0
    second.stop()

    # Replay 2: the same again, through the original group reset by a fresh group id.
    third = run_indexer(s.model_copy(update={"indexer_group_id": "replay-2"}))
    wait_committed(s.model_copy(update={"indexer_group_id": "replay-2"}), ends)
    assert snapshot(es, s.es_alias) == before
    third.stop()


def test_bad_articles_are_dead_lettered_and_the_rest_indexed(idx_settings: Settings, run_indexer):
    s = idx_settings
    good = [make_article(i) for i in range(20)]
    # Valid as a message, refused by the mapping: quality counters are integers.
    refused = make_article(99, quality={"boilerplate_lines": 10**12})
    not_json = (b"bad-1", b"\xff\xfe not json")
    wrong_schema = (b"bad-2", json.dumps({"schema": "lznews.article/9", "id": "x"}).encode())
    missing_title = good[0].model_dump(mode="json", by_alias=True)
    missing_title.pop("title")
    messages = as_messages(good[:10]) + [not_json, wrong_schema]
    messages += [(b"bad-3", json.dumps(missing_title).encode())]
    messages += as_messages([refused]) + as_messages(good[10:])
    ends = produce(s, messages)

    worker = run_indexer(s)
    wait_committed(s, ends)
    es = es_client(s)
    index = snapshot(es, s.es_alias)
    assert set(index) == {a.id for a in good}

    letters = [DeadLetter.parse(r.value) for r in read_topic(s, DEAD_LETTERS, 4)]
    by_key = {letter.original_value_b64: letter for letter in letters}
    assert len(letters) == 4
    assert {d.stage for d in letters} == {"indexer"}
    assert {d.original_topic for d in letters} == {s.topic("articles")}
    mapping = by_key[base64.b64encode(refused.to_bytes()).decode()]
    assert mapping.error_type == "mapper_parsing_exception"
    assert "boilerplate_lines" in mapping.error and mapping.error.startswith("HTTP 400")
    invalid = [d for d in letters if d.error_type == "MessageError"]
    assert len(invalid) == 3
    assert any("not JSON" in d.error for d in invalid)
    assert any("schema" in d.error for d in invalid)
    assert any("title" in d.error for d in invalid)
    assert DeadLetter.parse(invalid[0].to_bytes()).original_value is not None

    assert worker.metric("lznews_dead_letters_total", service="indexer") == 4
    assert worker.metric("lznews_indexer_item_failures_total", reason="invalid_message") == 3
    failures = "lznews_indexer_item_failures_total"
    assert worker.metric(failures, reason="mapper_parsing_exception") == 1
    assert worker.metric("lznews_indexer_documents_total", result="created") == 20
    assert worker.metric("lznews_indexer_bulk_documents_count") >= 1
    assert worker.metric("lznews_indexer_bulk_latency_seconds_count") >= 1
    lag = worker.metric("lznews_indexer_consumer_lag")
    assert lag == 0
    code, health = worker.health()
    assert code == 200 and health["ok"] and health["bootstrapped"]
    assert health["analyzer"] == "cjk"  # osmem has no working smartcn/IK
    assert health["search_cluster"] == "ok"
    worker.stop()
