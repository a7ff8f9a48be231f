"""Hostile sites: the crawler neither hammers nor loops on them, and what it cannot fetch it
dead-letters with a reason.

The site (hostilesite.py) answers a 500, oversize bodies, a gzip bomb and redirects to file:,
ftp: and data:; each test runs the real `lznews-crawler` against it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from crawlhelp import CrawlerEnv, crawler_env
from hostilesite import HOST, SITES, HostileSite

from lznews_common.models import DeadLetter
from lznews_common.settings import Settings
from lznews_common.topics import DEAD_LETTERS
from tests.support import read_topic


@pytest.fixture
def hostile_site() -> Iterator[Callable[..., HostileSite]]:
    started: list[HostileSite] = []

    def start(articles: list[str], listing_delay_s: float = 0.0) -> HostileSite:
        started.append(HostileSite(articles, listing_delay_s))
        return started[-1]

    yield start
    for site in started:
        site.stop()


def _env(settings: Settings, site: HostileSite, tmp: Path, **extra: Any) -> CrawlerEnv:
    sites = tmp / "hostile-sites.yaml"
    sites.write_text(SITES, "utf-8")
    return crawler_env(settings, site, tmp, LZNEWS_CRAWLER_SITES_FILE=sites,  # type: ignore[arg-type]
                       LZNEWS_CRAWLER_RETRIES=0, **extra)


def _run(crawler: CrawlerEnv, log: Path) -> dict[str, Any]:
    """crawl --once to completion, keeping its log (the summary is its last line)."""
    proc = crawler.start("crawl", "--once", log=log)
    assert proc.wait(timeout=90) == 0, log.read_text()[-4000:]
    return json.loads(log.read_text().strip().splitlines()[-1])


def _letters(settings: Settings, want: int) -> dict[str, DeadLetter]:
    return {r.key.decode(): DeadLetter.parse(r.value)
            for r in read_topic(settings, DEAD_LETTERS, want=want, settle_s=1)}


# --- item 6: one fetch per visit ---------------------------------------------------------------


@pytest.mark.integration
def test_a_failing_article_is_fetched_once_per_visit_until_dead_lettered(
    settings: Settings, hostile_site: Callable[..., HostileSite], tmp_path: Path
) -> None:
    """The article fails fast while the listing is slow, so the pending re-queue has failed
    before the listing links the article again: still one request per visit, and
    MAX_ATTEMPTS visits (not fewer) before the dead letter."""
    site = hostile_site(["/art/fail.html"], listing_delay_s=0.5)
    crawler = _env(settings, site, tmp_path, LZNEWS_CRAWLER_MAX_ATTEMPTS=3)
    per_visit, dead = [], []
    for visit in range(4):
        before = site.count("/art/fail.html")
        _run(crawler, tmp_path / f"visit{visit}.log")
        per_visit.append(site.count("/art/fail.html") - before)
        dead.append(len(read_topic(settings, DEAD_LETTERS, timeout_s=3, quiet_s=1)))
    assert per_visit == [1, 1, 1, 0]
    assert dead == [0, 0, 1, 1]  # dead-lettered by the third failed visit, and only once
    letter = _letters(settings, 1)[f"http://{HOST}/art/fail.html"]
    assert letter.error_type == "http_500_gave_up"


# --- item 7: permanent failure kinds -----------------------------------------------------------


@pytest.mark.integration
def test_oversize_bombs_and_odd_redirects_are_permanent_with_a_reason(
    settings: Settings, hostile_site: Callable[..., HostileSite], tmp_path: Path
) -> None:
    kinds = {
        "/art/big_length.html": "too_large", "/art/big_stream.html": "too_large",
        "/art/bomb.html": "too_large", "/art/to_file.html": "scheme",
        "/art/to_ftp.html": "scheme", "/art/to_data.html": "scheme",
    }
    site = hostile_site(list(kinds))
    crawler = _env(settings, site, tmp_path, LZNEWS_CRAWLER_MAX_ATTEMPTS=3)
    first = _run(crawler, tmp_path / "first.log")
    letters = _letters(settings, len(kinds))
    assert {k: v.error_type for k, v in letters.items()} == {
        f"http://{HOST}{path}": kind for path, kind in kinds.items()}
    for letter in letters.values():  # "<url>: <why>", the why not empty
        assert letter.error.split(": ", 1)[1].strip(), letter
    assert first["refused/scheme"] == 3
    log = (tmp_path / "first.log").read_text()
    assert "failed ()" not in log
    assert "too_large" in log

    # Dead at once: a later visit requests none of them again.
    before = {path: site.count(path) for path in kinds}
    _run(crawler, tmp_path / "second.log")
    assert {path: site.count(path) for path in kinds} == before




# --- item 8 (whole crawler): a name that does not resolve is refused ---------------------------


@pytest.mark.integration
def test_an_unresolvable_name_is_refused_before_the_downloader(
    settings: Settings, hostile_site: Callable[..., HostileSite], tmp_path: Path
) -> None:
    site = hostile_site([])
    crawler = _env(settings, site, tmp_path, LZNEWS_CRAWLER_HOST_MAP="",
                   LZNEWS_CRAWLER_ALLOW_PRIVATE="false")
    (tmp_path / "hostile-sites.yaml").write_text(
        SITES.replace("hostile.lznews.cn", "hostile.lznews.invalid"), "utf-8")
    summary = _run(crawler, tmp_path / "crawl.log")
    assert summary["refused/dns"] >= 1  # the listing
    assert summary["pages"] == 0
