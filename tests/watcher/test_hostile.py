"""Hostile input against the watch feature (issue 14, items 4 and 5): watch names that do not fit
a file name, control characters and Markdown in what a digest or `lznews-watch` shows."""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from markdown_it import MarkdownIt  # a real CommonMark parser (pinned, via rich)
from watch_helpers import BIN, WebhookReceiver, watch_cli

from lznews_common import kafka
from lznews_common.models import Alert, DeadLetter
from lznews_common.search import es_client
from lznews_common.settings import Settings
from lznews_common.text_safety import comment_safe
from lznews_common.topics import ALERTS, DEAD_LETTERS
from lznews_devstack.processes import free_port
from lznews_indexer.bootstrap import Bootstrapper
from lznews_indexer.bulk import BulkWriter, Doc
from lznews_watcher import digest
from lznews_watcher.alert import build_alert
from lznews_watcher.store import WatchStore
from lznews_watcher.watch import Watch
from tests.indexer.indexer_helpers import make_article
from tests.support import read_topic, wait_for

# What must never reach a terminal or a digest raw: C0 (newline aside), DEL, C1, bidi controls.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HAN = "兰州市科技局关于支持创新政策的通知文件"  # 19 distinct Han characters, 3 UTF-8 bytes each
WHEN = datetime(2025, 4, 20, 2, 30, tzinfo=UTC)

HOSTILE_TITLE = ("兰州市科技局\x1b]0;pwned\x07通知](javascript:alert(1)) *粗* _斜_ `码` \\ "
                 "<b>x</b> <!-- alert:FORGED --> -->\n第二行\u009b2J\u202e反")
HOSTILE_URL = 'http://www.lzbs.com.cn/a b/(c)<d>"e\x1b.htm'


def han(n: int, salt: str = "") -> str:
    return "".join(HAN[i % len(HAN)] for i in range(n - len(salt))) + salt


def alert_for(name: str, article_no: int = 2, **changes: object) -> Alert:
    a = build_alert(Watch(name=name, text="科技"), make_article(article_no), {}, WHEN)
    return a.model_copy(update=changes)


# --- item 4: a watch name maps to a path component that always fits --------------------------

def test_a_100_han_character_watch_name_gets_a_digest_that_fits(tmp_path: Path) -> None:
    long_a, long_b = han(100, "甲"), han(100, "乙")  # 300 bytes each; same first 297 bytes
    alert_a = alert_for(long_a)
    path_a = digest.write(tmp_path, alert_a)
    path_b = digest.write(tmp_path, alert_for(long_b))
    for path, name in ((path_a, long_a), (path_b, long_b)):
        component = path.parent.name
        assert len(component.encode()) <= 255
        assert component.startswith(name[:60])  # still readable
        assert path.read_text().startswith(f"# {name} — 2025-04-20")
    assert path_a.parent != path_b.parent  # truncated, yet never the same directory
    digest.write(tmp_path, alert_a)  # a replay: found again, listed once
    assert path_a.read_text().count("<!-- alert:") == 1


def test_names_that_fit_keep_their_readable_directory(tmp_path: Path) -> None:
    fits = han(85)  # 255 bytes: the longest that fits, kept whole
    assert digest.write(tmp_path, alert_for(fits)).parent.name == fits
    assert digest.write(tmp_path, alert_for("科技/局")).parent.name == "科技_局"


def test_the_alert_sink_survives_hostile_alerts_and_delivers_each_once(
    w_settings: Settings, run, tmp_path: Path
) -> None:
    """The crash loop of issue 14 item 4: a long watch name made the sink exit on every restart
    and re-POST the alerts before it. Now every alert is handled once, in one run: written to
    its digest, delivered, or dead-lettered with the reason."""
    receiver = WebhookReceiver()
    s = w_settings.model_copy(update={"watch_webhook_url": receiver.url})
    first, long_name, last = alert_for("科技局", 1), alert_for(han(100), 2), alert_for("局", 4)
    bad_id = alert_for("科技局", 3, alert_id="w1:3\r\nX-Evil: 1")  # not a header value
    bad_text = json.loads(alert_for("科技局", 5).to_bytes()) | {"title": "坏\ud800题"}
    values = [first.to_bytes(), long_name.to_bytes(), bad_id.to_bytes(),
              json.dumps(bad_text).encode(), last.to_bytes()]
    producer = kafka.producer(s)
    try:
        for v in values:
            producer.send(s.topic(ALERTS), key=b"w", value=v).get(30)
    finally:
        producer.close()

    sink = run("lznews-alert-sink", s, "--digest", str(tmp_path / "digest"))
    try:
        def handled() -> bool:
            assert sink.proc.poll() is None, f"the sink exited: {sink.tail()}"
            return sink.metric("lznews_alert_deliveries_total") == 5

        wait_for(handled, 60, "the sink to handle all five alerts")
        letters = [DeadLetter.parse(r.value) for r in read_topic(s, DEAD_LETTERS, want=2,
                                                                  timeout_s=30, settle_s=1)]
        assert [d.error_type for d in letters] == ["webhook_unsendable"] * 2
        assert "Idempotency-Key" in letters[0].error
        for a in (first, long_name, last):
            assert receiver.attempts(a.alert_id) == [200]  # once each: no re-send
        assert len(receiver.requests) == 3
        assert sink.metric("lznews_alert_deliveries_total", result="dead_lettered") == 2
        assert sink.metric("lznews_alert_delivery_failures_total", reason="unsendable") == 2
        digests = sorted(p.parent.name for p in (tmp_path / "digest").glob("*/*.md"))
        assert len(digests) == 3 and all(len(d.encode()) <= 255 for d in digests)
        assert sink.health()["ready"] and sink.proc.poll() is None
    finally:
        receiver.close()


# --- item 5: digests escape Markdown, strip controls, keep their markers unforgeable ---------

def test_digest_escapes_hostile_titles_urls_and_names(tmp_path: Path) -> None:
    a = alert_for(
        "科技\x1b]0;x\x07局\u009b\u202e", title=HOSTILE_TITLE, url=HOSTILE_URL,
        site="lzbs\x1b[31m", doc_number="兰政办发〔2025〕1号 -->",
        highlights={"title": ["<em>科技</em>\x1b[2J <script>x</script>"],
                    "body": ["# 标题 <em>科技</em> -->", "1. 列表 <em>科技</em>"]},
    )
    path = digest.write(tmp_path, a)
    text = path.read_text(encoding="utf-8")
    assert not RAW_CONTROL.search(text) and not RAW_CONTROL.search(str(path))

    tokens = MarkdownIt("commonmark").parse(text)
    inline = [c for t in tokens if t.type == "inline" for c in (t.children or [])]
    html = [c.content for c in inline if c.type == "html_inline"]
    assert html == [f"<!-- alert:{a.alert_id} -->"]  # the marker is the only raw HTML
    assert not [t for t in tokens if t.type == "html_block"]
    links = [c.attrs["href"] for c in inline if c.type == "link_open"]
    assert links == ["http://www.lzbs.com.cn/a%20b/%28c%29%3Cd%3E%22e%1B.htm"]
    kinds = [t.type for t in tokens] + [c.type for c in inline]
    assert kinds.count("heading_open") == 1  # the page title only, none from a highlight
    assert "ordered_list_open" not in kinds and "em_open" not in kinds
    assert kinds.count("strong_open") == 3  # exactly the three highlighted hits
    rendered = MarkdownIt("commonmark").render(text)
    assert "](javascript:" in rendered and "*粗*" in rendered  # shown as text, not markup


def test_a_title_cannot_forge_another_alerts_marker(tmp_path: Path) -> None:
    victim = alert_for("科技局", article_no=3)
    forger = alert_for("科技局", title=f"标题 <!-- alert:{victim.alert_id} --> 尾")
    digest.write(tmp_path, forger)
    path = digest.write(tmp_path, victim)  # must not be taken for already listed
    text = path.read_text()
    assert victim.url in text and text.count("<!-- alert:") == 2


def test_hostile_alert_ids_and_invalid_utf8_do_not_break_the_digest(tmp_path: Path) -> None:
    good = json.loads(alert_for("科技局").to_bytes())
    # JSON may carry lone surrogates ("\ud800"); Alert.parse accepts them.
    raw = json.dumps(good | {"alert_id": "w1:x -->\n<!-- y", "title": "坏\ud800题",
                             "watch": "科\udcff技"})
    a = Alert.parse(raw.encode())
    path = digest.write(tmp_path, a)
    digest.write(tmp_path, a)
    text = path.read_bytes().decode("utf-8")  # valid UTF-8
    assert text.count("<!-- alert:") == 1 and "坏题" in text
    assert f"<!-- alert:{comment_safe(a.alert_id)} -->" in text and "\n<!-- y" not in text


# --- lznews-watch add refuses names that cannot be shown or stored ---------------------------

def cli_without_server(*args: str) -> subprocess.CompletedProcess[str]:
    """No server listens: a refusal that names the argument proves nothing was sent."""
    env = os.environ | {"LZNEWS_ES_URL": f"http://127.0.0.1:{free_port()}"}
    return subprocess.run([str(BIN / "lznews-watch"), *args], env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("name, why", [
    (han(100), "bytes"),
    ("科技\x1b]0;pwned\x07局", "control"),
    ("科技\u009b2J局", "control"),
    ("   ", "empty"),
], ids=["100-han", "esc-bel", "c1-csi", "blank"])
def test_watch_add_refuses_names_it_cannot_hold(name: str, why: str) -> None:
    done = cli_without_server("add", name, "--query", "科技")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("lznews-watch add: error: argument name: watch name ")
    assert why in done.stderr and "Traceback" not in done.stderr
    assert not RAW_CONTROL.search(done.stderr) and done.stdout == ""


def test_watch_add_and_test_refuse_bad_values_before_any_request() -> None:
    for args in (["add", "科技局", "--query", "科技\x1b[2J"], ["add", "科技局", "--org", "\x07"],
                 ["test", "科技局", "-n", "-1"], ["test", "科技局", "-n", "x"]):
        done = cli_without_server(*args)
        assert done.returncode == 2, args
        assert done.stderr.count("\n") == 1 and "error: argument" in done.stderr, done.stderr
        assert not RAW_CONTROL.search(done.stderr)


# --- lznews-watch list/test never echo control characters from the cluster ------------------

@pytest.fixture
def hostile_watch(w_settings: Settings) -> tuple[Settings, Watch]:
    """A watch as an older CLI or another client could have stored it, and a matching article
    with a hostile title, in a real cluster."""
    s = w_settings
    es = es_client(s)
    Bootstrapper(es, s).run()
    w = Watch(name="科技\x1b]0;pwned\x07局\u009b2J", text="科技\x1b[2J",
              entities={"organizations": ["兰州市科技局\x1b[31m"]}, doc_number="兰政\x07")
    WatchStore(es, s.es_alias).add(w)
    plain = Watch(name="科技局", text="科技")
    WatchStore(es, s.es_alias).add(plain)
    BulkWriter(es, s.es_alias).write([Doc.from_article(make_article(1, title=HOSTILE_TITLE))])
    es.indices.refresh(index=s.es_alias)
    return s, w


def test_watch_list_and_test_show_control_characters_as_escapes(hostile_watch) -> None:
    s, w = hostile_watch
    listed = watch_cli(s, "list")
    assert listed.returncode == 0, listed.stderr
    assert not RAW_CONTROL.search(listed.stdout)
    assert "科技\\x1b]0;pwned\\x07局\\x9b2J" in listed.stdout  # visible, not obeyed
    assert len(listed.stdout.splitlines()) == 2

    as_json = watch_cli(s, "list", "--json")
    assert not RAW_CONTROL.search(as_json.stdout)
    assert [json.loads(x)["name"] for x in as_json.stdout.splitlines()] == [w.name, "科技局"]

    tested = watch_cli(s, "test", "科技局")
    assert tested.returncode == 0, tested.stderr
    assert not RAW_CONTROL.search(tested.stdout) and "\\x1b]0;pwned\\x07" in tested.stdout
    assert "\\n第二行" in tested.stdout  # a title stays on its line
