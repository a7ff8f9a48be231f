"""Session fixtures: a real Kafka broker and osmem, started once, stopped by pid at the end.

The broker is Apache Kafka where Java and Maven are installed (`make install` resolves its
jars), else Tansu; the run's header line says which (LZNEWS_STACK_KAFKA chooses). The servers
die with the pytest process even when it is killed (PR_SET_PDEATHSIG), so an interrupted run
leaves nothing behind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lznews_common.settings import Settings, load_settings
from lznews_devstack.server import kafka_note
from lznews_devstack.stack import LocalStack

ROOT = Path(__file__).resolve().parents[1]


def pytest_report_header(config: pytest.Config) -> str:
    return kafka_note()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    state = tmp_path_factory.mktemp("stack")
    local = LocalStack(state_dir=state).start()
    saved = {k: os.environ.get(k) for k in local.env()}
    os.environ.update(local.env())
    # Tests never read a developer's .lznews/stack.env.
    os.environ["LZNEWS_ENV_FILE"] = str(state / "absent.env")
    try:
        yield local
    finally:
        local.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def settings(stack: LocalStack) -> Settings:
    """Settings pointing at the session stack, with topics private to this test."""
    return load_settings(topic_prefix=f"t{uuid.uuid4().hex[:10]}-")
