"""Fixtures of the watcher tests; helpers live in watch_helpers.py (on sys.path here)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from watch_helpers import Service, WebhookReceiver  # noqa: E402

from lznews_common.settings import Settings  # noqa: E402
from tests.support import private_settings  # noqa: E402


@pytest.fixture
def w_settings(settings: Settings) -> Settings:
    """A private alias (so private watch, ledger and scratch indices), quick retries."""
    return private_settings(
        settings,
        partitions=2,
        indexer_bulk_max_docs=25,
        indexer_bulk_max_wait_s=0.2,
        indexer_index_replicas=0,
        watch_retry_initial_s=0.2,
        watch_retry_max_s=1.0,
        watch_webhook_retry_initial_s=0.1,
        watch_webhook_retry_max_s=0.4,
        watch_webhook_timeout_s=5.0,
    )


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    started: list[Service] = []

    def start(command: str, s: Settings, *args: str) -> Service:
        svc = Service(command, s, tmp_path / f"{command}-{len(started)}.log", *args)
        started.append(svc)
        return svc

    yield start
    for svc in started:
        svc.stop(timeout_s=10)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver()
    yield r
    r.close()
