"""The zero-JVM default: the pipeline's main path on Tansu, whatever broker the session runs.

`make run` on a machine without Java runs on Tansu (the local stack's fallback), so this small
suite keeps that path proven when the rest of the suite runs on Apache Kafka: the shared
clients through a consumer group, and raw pages through the real normaliser and indexer
commands into osmem. The session's osmem is shared; the broker is this module's own Tansu."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lznews_common import kafka
from lznews_common.models import RawPage
from lznews_common.search import es_client
from lznews_common.settings import Settings, load_settings
from lznews_common.topics import RAW_PAGES, prepare_topics
from lznews_devstack.processes import free_port
from lznews_devstack.server import Server
from lznews_devstack.stack import LocalStack
from tests.common.test_smoke import test_article_through_kafka_and_search as smoke
from tests.support import start_service, stop_service, wait_for

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "articles"


@pytest.fixture(scope="module")
def tansu(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server("kafka", free_port(), tmp_path_factory.mktemp("tansu") / "tansu.log",
                    kind="tansu")
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def tansu_settings(tansu: Server) -> Settings:
    return load_settings(kafka_bootstrap=tansu.address, stack_kafka="tansu",
                         topic_prefix=f"t{uuid.uuid4().hex[:10]}-")


def test_clients_and_search_on_tansu(tansu_settings: Settings, capsys) -> None:
    smoke(tansu_settings, capsys)


def test_pages_to_search_on_tansu(tansu_settings: Settings, tmp_path: Path) -> None:
    s = tansu_settings.model_copy(update={"es_alias": f"{tansu_settings.topic_prefix}articles"})
    prepare_topics(s)
    manifest = json.loads((FIXTURES / "manifest.json").read_text())["pages"]
    pages = [p for p in manifest if p["file"] in ("001_lzbs.html", "004_lanzhou_gov.html")]
    producer = kafka.producer(s)
    for page in pages:
        raw = RawPage.build(url=page["url"], final_url=page["url"], site=page["site"],
                            http_status=200, body=(FIXTURES / page["file"]).read_bytes(),
                            headers={"content-type": page["content_type"]}, crawl_id="tansu")
        producer.send(s.topic(RAW_PAGES), key=raw.url.encode(), value=raw.to_bytes())
    producer.flush(30)
    producer.close()
    extra = {"kafka_bootstrap": s.kafka_bootstrap, "stack_kafka": "tansu", "es_alias": s.es_alias}
    services = [
        start_service("lznews-normalizer", s, tmp_path / "normalizer.log",
                      normalizer_metrics_port=free_port(),
                      normalizer_data_dir=tmp_path / "data", **extra),
        start_service("lznews-indexer", s, tmp_path / "indexer.log",
                      indexer_metrics_port=free_port(), indexer_index_replicas=0,
                      indexer_bulk_max_wait_s=0.3, **extra),
    ]
    try:
        es = es_client(s)

        def indexed() -> set[str]:
            es.indices.refresh(index=s.es_alias)
            hits = es.search(index=s.es_alias, query={"match_all": {}}, size=10)["hits"]["hits"]
            return {h["_source"]["url"] for h in hits}

        want = {p["url"] for p in pages}
        wait_for(lambda: indexed() == want, 120, "both pages indexed through Tansu")
    finally:
        for proc in services:
            stop_service(proc)
