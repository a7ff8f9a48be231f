"""Fixtures of the indexer tests; helpers live in indexer_helpers.py (on sys.path here)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from indexer_helpers import IndexerProcess  # noqa: E402

from lznews_common.settings import Settings  # noqa: E402
from tests.support import private_settings  # noqa: E402


@pytest.fixture
def idx_settings(settings: Settings) -> Settings:
    """Test settings: a private alias, quick bulks and retries, frequent index checks."""
    return private_settings(
        settings,
        partitions=3,
        indexer_bulk_max_docs=25,
        indexer_bulk_max_wait_s=0.3,
        indexer_retry_initial_s=0.2,
        indexer_retry_max_s=1.0,
        indexer_index_check_s=1.0,
        indexer_index_replicas=0,
    )


@pytest.fixture
def run_indexer(tmp_path: Path) -> Iterator[Callable[..., IndexerProcess]]:
    started: list[IndexerProcess] = []

    def start(s: Settings, *args: str) -> IndexerProcess:
        p = IndexerProcess(s, tmp_path / f"indexer-{len(started)}.log", *args)
        started.append(p)
        return p

    yield start
    for p in started:
        if p.proc.poll() is None:
            p.kill()
