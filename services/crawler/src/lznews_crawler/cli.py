"""`lznews-crawler`: continuous crawl, one visit, or backfill; prints a JSON summary at the end.

    lznews-crawler crawl                    re-visit every site on its interval, until SIGTERM
    lznews-crawler crawl --once             one visit of every site, then exit
    lznews-crawler backfill --since 2024-01-01 --max-pages 20
    lznews-crawler sites                    the site list and which sites this replica owns
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import date
from typing import Any

from kafka.errors import KafkaError

from lznews_common import kafka
from lznews_common.deadletter import DeadLetterSink
from lznews_common.httpserver import MetricsServer
from lznews_common.logs import setup_logging
from lznews_common.settings import Settings, load_settings
from lznews_common.topics import prepare_topics
from lznews_crawler.config import scrapy_settings
from lznews_crawler.publisher import Publisher
from lznews_crawler.runtime import Mode, Runtime
from lznews_crawler.seenstore import SeenStore
from lznews_crawler.sites import SiteConfigError, SiteList, load_sites, owner

log = logging.getLogger("lznews_crawler")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lznews-crawler", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    crawl = sub.add_parser("crawl", help="continuous crawl (default) or one visit (--once)")
    crawl.add_argument("--once", action="store_true", help="visit every site once, then exit")
    backfill = sub.add_parser("backfill", help="one-shot walk back through listing pages")
    backfill.add_argument("--since", type=date.fromisoformat, required=True,
                          help="skip articles whose URL date is before this day (YYYY-MM-DD)")
    backfill.add_argument("--max-pages", type=int, default=10,
                          help="listing pages to walk per site (page cap)")
    sub.add_parser("sites", help="print the site list and this replica's share")
    return parser


def _connect(s: Settings, wait_s: float | None) -> kafka.KafkaProducer:
    """Create the topics and a producer, waiting for Kafka (forever if wait_s is None)."""
    deadline = None if wait_s is None else time.monotonic() + wait_s
    delay = 1.0
    while True:
        try:
            prepare_topics(s)
            timeout_ms = int(s.crawler_publish_timeout_s * 1000)
            return kafka.producer(
                s,
                max_block_ms=timeout_ms,
                delivery_timeout_ms=max(timeout_ms, s.kafka_request_timeout_ms + 1000),
            )
        except KafkaError as exc:
            if deadline is not None and time.monotonic() + delay > deadline:
                raise
            log.warning("Kafka not reachable (%s); retrying in %.0f s", exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 30.0)


def _sites_report(s: Settings, sites: SiteList) -> dict[str, Any]:
    return {
        "source": sites.source,
        "replica": f"{s.crawler_replica_index}/{s.crawler_replica_count}",
        "sites": [
            {"name": x.name, "title": x.title, "enabled": x.enabled,
             "owner": owner(x.name, s.crawler_replica_count),
             "listing_urls": list(x.listing_urls), "interval_s": x.interval_s}
            for x in sites.sites
        ],
    }


def run(mode: Mode, since: date | None = None, max_pages: int | None = None) -> dict[str, Any]:
    from scrapy.crawler import CrawlerProcess  # Scrapy installs its reactor on import of this

    from lznews_crawler.spiders.policy import PolicySpider

    s = load_settings()
    sites = load_sites(s.crawler_sites_file)
    owned = sites.owned(s.crawler_replica_index, s.crawler_replica_count)
    log.info("replica %d/%d owns %s", s.crawler_replica_index, s.crawler_replica_count,
             [x.name for x in owned])
    store = SeenStore(s.crawler_state_dir)
    store.open_sites([x.name for x in owned])

    holder: dict[str, Any] = {}

    def health() -> tuple[bool, dict[str, Any]]:
        crawler, pub = holder.get("crawler"), holder.get("publisher")
        failing = pub.failing_for() if pub else None
        detail = {"mode": mode, "sites": [x.name for x in owned],
                  "kafka_last_ack": pub.last_ack if pub else None,
                  "kafka_last_error": pub.last_error if pub else "not connected",
                  "kafka_failing_for_s": None if failing is None else round(failing, 1)}
        # Pages Kafka refuses stay pending (fetched again later): right for a while, but not
        # for ever behind a healthy face.
        stuck = failing is not None and failing > s.unhealthy_after_s
        return bool(crawler is not None and crawler.crawling) and not stuck, detail

    port = s.metrics_port or s.crawler_metrics_port
    metrics = MetricsServer(s.metrics_host, port, health).start()
    try:
        producer = _connect(s, None if mode == "continuous" else s.crawler_publish_timeout_s)
        publisher = Publisher(producer)
        holder["publisher"] = publisher
        rt = Runtime(settings=s, sites=sites, owned=owned, store=store, publisher=publisher,
                     dead_letters=DeadLetterSink(s, producer, "crawler"), mode=mode,
                     since=since, max_pages=max_pages)
        process = CrawlerProcess(settings=scrapy_settings(s, sites, owned),
                                 install_root_handler=False)
        crawler = process.create_crawler(PolicySpider)
        holder["crawler"] = crawler
        process.crawl(crawler, runtime=rt)
        process.start()
        publisher.close()
        stats = crawler.stats.get_stats() if crawler.stats else {}
    finally:
        store.close()
        metrics.stop()
    summary: dict[str, Any] = {
        k.removeprefix("lznews/"): v for k, v in stats.items() if k.startswith("lznews/")
    }
    summary.update(
        mode=mode, sites=[x.name for x in owned], crawl_id=rt.crawl_id,
        finish_reason=stats.get("finish_reason"),
        pages=stats.get("downloader/response_count", 0),
        bytes=stats.get("downloader/response_bytes", 0),
        elapsed_s=stats.get("elapsed_time_seconds"),
    )
    return summary


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    s = load_settings()
    setup_logging(s)
    try:
        if args.command == "sites":
            print(json.dumps(_sites_report(s, load_sites(s.crawler_sites_file)),
                             ensure_ascii=False, indent=2))
            return 0
        if args.command == "backfill":
            summary = run("backfill", since=args.since, max_pages=args.max_pages)
        else:
            summary = run("once" if args.once else "continuous")
    except SiteConfigError as exc:
        print(f"lznews-crawler: bad site list: {exc}", file=sys.stderr)
        return 2
    except KafkaError as exc:
        print(f"lznews-crawler: Kafka unavailable: {exc!r}", file=sys.stderr)
        return 3
    print(json.dumps(summary, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
