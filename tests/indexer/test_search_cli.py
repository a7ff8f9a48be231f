"""lznews-search against a real index: by a Chinese word, by an entity, with filters."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime

import pytest
from indexer_helpers import BIN, make_article

from lznews_common.search import es_client
from lznews_common.settings import Settings
from lznews_indexer.bootstrap import Bootstrapper
from lznews_indexer.bulk import BulkWriter, Doc, Outcome
from tests.support import settings_env


@pytest.fixture
def indexed(idx_settings: Settings) -> Settings:
    s = idx_settings
    es = es_client(s)
    Bootstrapper(es, s).run()
    articles = [make_article(i) for i in range(12)]
    articles.append(
        make_article(
            50,
            site="lanzhou_gov",
            title="兰州市人民政府办公厅关于加强城市供暖保障工作的通知",
            body="各县、区人民政府：为做好今冬明春城市供暖保障工作，现就有关事项通知如下。\n"
            "市住房和城乡建设局负责全市供暖运行监管。",
            url="http://www.lanzhou.gov.cn/art/2025/10/8/art_1.html",
        )
    )
    articles[-1].entities.organizations = ["兰州市住房和城乡建设局"]
    articles[-1].entities.policy_documents = []
    articles[-1].doc_number = "兰政办发〔2025〕12号"
    articles[-1].published_at = datetime(2025, 10, 8, 2, tzinfo=UTC)
    stats = BulkWriter(es, s.es_alias).write([Doc.from_article(a) for a in articles])
    assert {r.outcome for r in stats.results} == {Outcome.CREATED}
    es.indices.refresh(index=s.es_alias)
    return s


def run(s: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | settings_env(s)
    return subprocess.run(
        [str(BIN / "lznews-search"), *args, "--color", "never"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_finds_an_article_by_a_chinese_word(indexed: Settings):
    out = run(indexed, "供暖")
    assert out.returncode == 0, out.stderr
    assert "兰州市人民政府办公厅关于加强城市[供暖]保障工作的通知" in out.stdout
    assert "[供暖]" in out.stdout.split("\n")[2]  # a highlighted body snippet
    assert "兰政办发〔2025〕12号" in out.stdout
    assert "1 of 1 matching" in out.stdout


def test_finds_articles_by_an_entity_newest_first(indexed: Settings):
    out = run(indexed, "--entity", "兰州市住房和城乡建设局")
    assert out.returncode == 0, out.stderr
    assert "1 of 1 matching" in out.stdout and "供暖" in out.stdout

    out = run(indexed, "科技", "--entity", "《兰州市支持科技创新若干措施》", "-n", "20")
    assert out.returncode == 0, out.stderr
    assert "12 of 12 matching" in out.stdout
    dates = [line[:10] for line in out.stdout.splitlines() if line[:4].isdigit()]
    assert dates == sorted(dates, reverse=True) and len(dates) == 12


def test_site_and_since_filters(indexed: Settings):
    out = run(indexed, "科技创新", "--site", "lzbs", "--since", "2025-04-02")
    assert out.returncode == 0, out.stderr
    dates = [line[:10] for line in out.stdout.splitlines() if line[:4].isdigit()]
    assert dates and all(d >= "2025-04-02" for d in dates)
    assert all("  lzbs  " in line for line in out.stdout.splitlines() if line[:4].isdigit())

    assert run(indexed, "供暖", "--site", "lzbs").returncode == 1  # nothing: grep-like
    assert run(indexed, "农业").returncode == 1
