"""Policy watch end to end against real Tansu and osmem, every service a real subprocess:
`lznews-indexer`, `lznews-watcher`, `lznews-alert-sink`, `lznews-watch` (CLI), and a local
webhook receiver. The scenarios of issue 8."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from watch_helpers import WebhookReceiver, watch_cli

from lznews_common.settings import Settings
from lznews_common.topics import ALERTS
from tests.indexer.indexer_helpers import as_messages, make_article, produce
from tests.support import read_topic, wait_for


def alerts_on_topic(s: Settings, want: int | None = None, settle_s: float = 0.0) -> list[dict]:
    records = read_topic(s, ALERTS, want=want, timeout_s=60 if want else 5, settle_s=settle_s)
    return [json.loads(r.value) for r in records]


def add_watch(s: Settings, *args: str) -> str:
    done = watch_cli(s, "add", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[0]  # the watch id


def test_watches_fire_once_per_article_and_on_change_only_when_asked(
    w_settings: Settings, run, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    s = w_settings
    indexer = run("lznews-indexer", s)
    indexer.wait_healthy()  # the alias exists: watches are matched against its mapping

    # Watches exist before any article arrives.
    gov = add_watch(s, "市政府办公厅发文", "--query", "科技创新", "--doc-number", "兰政办发")
    tech = add_watch(s, "科技局动态", "--org", "兰州市科技局", "--on-change")
    add_watch(s, "别的网站", "--site", "no-such-site")
    assert watch_cli(s, "add", "科技局动态", "--site", "lzbs").returncode == 2  # names unique
    listed = watch_cli(s, "list", "--json")
    assert [json.loads(x)["name"] for x in listed.stdout.splitlines()] == [
        "市政府办公厅发文", "科技局动态", "别的网站"]

    sink_env = s.model_copy(update={"watch_webhook_url": receiver.url})
    watcher = run("lznews-watcher", s)
    sink = run("lznews-alert-sink", sink_env, "--digest", str(tmp_path / "digest"))
    watcher.wait_healthy()
    sink.wait_healthy()

    # A: a government notice with a 兰政办发 number about 科技创新 (both first watches);
    # B: a news item naming 兰州市科技局 (the second watch only).
    a, b = make_article(4), make_article(1)
    assert a.doc_number and a.doc_number.startswith("兰政办发") and not b.doc_number
    produce(s, as_messages([a, b]))

    first = alerts_on_topic(s, want=3, settle_s=3)
    assert sorted((x["watch_id"], x["article_id"]) for x in first) == sorted(
        [(gov, a.id), (tech, a.id), (tech, b.id)])
    gov_alert = next(x for x in first if x["watch_id"] == gov)
    assert gov_alert["watch"] == "市政府办公厅发文"
    assert (gov_alert["title"], gov_alert["url"]) == (a.title, a.url)
    assert gov_alert["published_at"].startswith(a.published_at.isoformat()[:19])
    assert any("<em>" in frag for frag in gov_alert["highlights"]["title"])
    wait_for(lambda: len(receiver.delivered()) == 3, 30, "the webhook to get three alerts")
    body, headers, _ = receiver.requests[0]
    assert headers["Idempotency-Key"] == body["alert_id"]

    # Re-indexing the same article: the indexer writes nothing new, and nobody is alerted.
    produce(s, as_messages([a]))
    wait_for(lambda: watcher.metric("lznews_watch_suppressed_total", reason="already_alerted")
             >= 2, 30, "the replayed article to be recognised as already alerted")
    assert len(alerts_on_topic(s)) == 3

    # A changed article (a newer fetch, new body): only the on_change watch fires again.
    changed = make_article(
        4, fetched_at=a.fetched_at + timedelta(hours=2),
        body=a.body + "\n兰州市科技局补充说明：申报截止日期延长至五月底。",
    )
    produce(s, as_messages([changed]))
    fourth = alerts_on_topic(s, want=4, settle_s=3)
    assert len(fourth) == 4
    again = [x for x in fourth if x["article_id"] == a.id and x["watch_id"] == tech]
    assert len(again) == 2 and again[0]["content_key"] != again[1]["content_key"]
    assert [x for x in fourth if x["watch_id"] == gov] == [gov_alert]
    wait_for(lambda: len(receiver.delivered()) == 4, 30, "the webhook to get the fourth alert")
    assert len({x["alert_id"] for x in receiver.delivered()}) == 4

    # Metrics: matches per watch, match latency; the digest lists each alert once.
    assert watcher.metric("lznews_watch_matches_total", watch="科技局动态") == 3
    assert watcher.metric("lznews_watch_matches_total", watch="市政府办公厅发文") == 1
    assert watcher.metric("lznews_watch_match_latency_seconds_count") >= 3
    assert watcher.health()["matcher"] in ("percolator", "scratch")
    assert sink.metric("lznews_alert_deliveries_total", result="delivered") == 4
    digests = list((tmp_path / "digest" / "科技局动态").glob("*.md"))
    assert digests, "no digest written"
    text = "".join(p.read_text() for p in digests)
    assert text.count("<!-- alert:") == 3 and a.title in text and b.title in text

    # The CLI's test and remove.
    tested = watch_cli(s, "test", "市政府办公厅发文")
    assert tested.returncode == 0 and a.url in tested.stdout
    assert watch_cli(s, "remove", "别的网站").returncode == 0
    assert watch_cli(s, "remove", "别的网站").returncode == 1
    assert len(watch_cli(s, "list").stdout.splitlines()) == 2
