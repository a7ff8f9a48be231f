"""A broker outage in the middle of a crawl loses no article.

The crawler reaches its own broker (the session's kind: Apache Kafka, or Tansu without a JVM)
through a TCP proxy (the broker advertises the proxy's port). After the first acknowledgements
the proxy drops every connection and refuses new ones, which is a stopped broker as far as the
crawler can tell; the broker itself keeps its data, so what was acknowledged before the cut can
still be read afterwards and the test can check the whole set. Pages fetched during the outage
are never acknowledged, so they stay pending and are fetched again once the broker is back.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
from crawlhelp import crawler_env, fast_sites
from tcpproxy import TcpProxy

from lznews_common.settings import load_settings
from lznews_common.topics import RAW_PAGES
from lznews_devstack.mirror import MirrorServer
from lznews_devstack.processes import free_port
from lznews_devstack.server import Server
from lznews_devstack.stack import LocalStack
from tests.support import health, metric_sum, read_topic, wait_for

pytestmark = pytest.mark.integration


def test_broker_outage_mid_crawl_loses_no_article(
    stack: LocalStack, mirror: MirrorServer, expected: dict[str, Any], tmp_path: Path
) -> None:
    broker_port = free_port()
    proxy = TcpProxy(broker_port).start()
    broker = Server("kafka", broker_port, tmp_path / "broker.log", advertised_port=proxy.port,
                    kind=stack.kafka_kind)
    broker.start()
    try:
        settings = load_settings(kafka_bootstrap=f"127.0.0.1:{proxy.port}",
                                 topic_prefix="outage-")
        crawler = crawler_env(settings, mirror, tmp_path,
                              LZNEWS_KAFKA_REQUEST_TIMEOUT_MS=3000,
                              LZNEWS_CRAWLER_PUBLISH_TIMEOUT_S=4,
                              LZNEWS_UNHEALTHY_AFTER_S=2)
        fast_sites(Path(crawler.env["LZNEWS_CRAWLER_SITES_FILE"]), concurrency=1)
        mirror.page_delay_s = 0.3  # a crawl that lasts long enough to be interrupted
        proc = crawler.start("crawl", log=tmp_path / "crawler.log")
        try:
            def published() -> float:
                return metric_sum(crawler.metrics(), "lznews_crawler_published_total")

            wait_for(lambda: published() >= 2, 60, "the first acknowledgements")
            proxy.cut()
            wait_for(lambda: metric_sum(crawler.metrics(),
                                        "lznews_crawler_publish_failures_total") >= 1,
                     60, "publishes failing during the outage")
            # Failing longer than LZNEWS_UNHEALTHY_AFTER_S: /healthz says so, with the reason.
            state = wait_for(lambda: not (h := health(crawler.metrics_port))["ok"] and h, 60,
                             "/healthz to report the failing broker")
            assert state["kafka_failing_for_s"] >= 2 and state["kafka_last_error"]
            at_cut = published()
            proxy.restore()
            want = {u for urls in expected["published"].values() for u in urls}
            assert at_cut < len(want), "the crawl finished before the outage"
            wait_for(lambda: published() >= len(want), 120, "the crawl to finish after it")
            assert health(crawler.metrics_port)["ok"]
            records = read_topic(settings, RAW_PAGES, want=len(want), timeout_s=30)
            # At least once: a record the broker wrote but whose ack the cut swallowed may
            # come twice; consumers are idempotent by key (DESIGN.md).
            assert {r.key.decode() for r in records} == want
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0, (tmp_path / "crawler.log").read_text()[-3000:]
    finally:
        broker.cleanup()
        proxy.stop()
