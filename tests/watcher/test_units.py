"""Watch definitions, their compiled query, ledger ids and digests: no servers needed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from lznews_watcher import digest
from lznews_watcher.alert import build_alert, ledger_id
from lznews_watcher.watch import Watch, compile_query
from tests.indexer.indexer_helpers import make_article


def test_a_watch_needs_something_to_match() -> None:
    with pytest.raises(ValidationError):
        Watch(name="空")
    with pytest.raises(ValidationError):
        Watch(name="x", entities={"companies": ["甲"]})


def test_compiled_query() -> None:
    docs = {"policy_documents": ["《兰州市支持科技创新若干措施》"]}
    w = Watch(name="w", text="科技创新", entities=docs, sites=["lzbs"], doc_number="兰政办发")
    q = compile_query(w)["bool"]
    assert q["must"][0]["multi_match"]["operator"] == "and"
    assert {"term": {"entities.policy_documents": "兰州市支持科技创新若干措施"}} in q["filter"]
    assert {"terms": {"site": ["lzbs"]}} in q["filter"]
    assert {"prefix": {"doc_number": {"value": "兰政办发"}}} in q["filter"]
    wild = compile_query(Watch(name="w", doc_number="*政办发*"))["bool"]["filter"]
    assert wild == [{"wildcard": {"doc_number": {"value": "*政办发*"}}}]


def test_ledger_id_follows_on_change() -> None:
    a = make_article(1)
    edited = a.model_copy(update={"body": a.body + "\n更正。"})
    plain, changing = Watch(name="p", text="兰州"), Watch(name="c", text="兰州", on_change=True)
    assert ledger_id(plain, a) == ledger_id(plain, edited) == f"{plain.id}:{a.id}"
    assert ledger_id(changing, a) != ledger_id(changing, edited)


def test_digest_lists_an_alert_once_per_lanzhou_day(tmp_path: Path) -> None:
    w = Watch(name="科技/局", text="科技")
    late = datetime(2025, 4, 20, 17, 30, tzinfo=UTC)  # 01:30 on the 21st in Lanzhou
    alert = build_alert(w, make_article(2), {"body": ["<em>科技</em>局"]}, late)
    path = digest.write(tmp_path, alert)
    digest.write(tmp_path, alert)
    assert path == tmp_path / "科技_局" / "2025-04-21.md"
    text = path.read_text()
    assert text.count("<!-- alert:") == 1 and "**科技**局" in text
