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
from datetime import date
from typing import TYPE_CHECKING, Any

from kafka.errors import KafkaError

from lznews_common.httpserver import HealthCheck, MetricsServer
from lznews_common.logs import setup_logging
from lznews_common.settings import Settings, load_settings
from lznews_crawler.config import Mode, scrapy_settings
from lznews_crawler.sites import Site, SiteConfigError, SiteList, load_sites, owner

if TYPE_CHECKING:  # Scrapy is imported only by the commands that crawl
    from scrapy.crawler import Crawler

    from lznews_crawler.pipelines import KafkaPipeline
    from lznews_crawler.publisher import Publisher

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


def _pipeline(crawler: Crawler) -> KafkaPipeline | None:
    from lznews_crawler.pipelines import KafkaPipeline

    try:
        return crawler.get_item_pipeline(KafkaPipeline)
    except RuntimeError:  # the crawl engine (and with it the pipeline) is not built yet
        return None


def _publisher(crawler: Crawler) -> Publisher | None:
    """KafkaPipeline's Publisher, once the pipeline has connected to Kafka."""
    pipeline = _pipeline(crawler)
    return pipeline.publisher if pipeline else None


def _health(crawler: Crawler, mode: Mode, owned: list[Site], s: Settings) -> HealthCheck:
    def health() -> tuple[bool, dict[str, Any]]:
        pub = _publisher(crawler)
        failing = pub.failing_for() if pub else None
        detail = {"mode": mode, "sites": [x.name for x in owned],
                  "kafka_last_ack": pub.last_ack if pub else None,
                  "kafka_last_error": pub.last_error if pub else "not connected",
                  "kafka_failing_for_s": None if failing is None else round(failing, 1)}
        # Pages Kafka refuses stay pending (fetched again later): right for a while, but not
        # for ever behind a healthy face.
        stuck = failing is not None and failing > s.unhealthy_after_s
        return bool(pub is not None and crawler.crawling) and not stuck, detail

    return health


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
    # Scrapy's components build the crawl's objects from these settings: the seen-store
    # (state.SeenStoreExtension), the Kafka producer, Publisher and dead-letter sink
    # (pipelines.KafkaPipeline).
    process = CrawlerProcess(
        settings=scrapy_settings(s, sites, owned, mode=mode, since=since, max_pages=max_pages),
        install_root_handler=False)
    crawler = process.create_crawler(PolicySpider)
    port = s.metrics_port or s.crawler_metrics_port
    metrics = MetricsServer(s.metrics_host, port, _health(crawler, mode, owned, s)).start()
    try:
        process.crawl(crawler)
        process.start()
    finally:
        metrics.stop()
    pipeline = _pipeline(crawler)
    if pipeline and pipeline.connect_error:  # a one-shot crawl gave up waiting: main() exits 3
        raise pipeline.connect_error
    stats = crawler.stats.get_stats() if crawler.stats else {}
    summary: dict[str, Any] = {
        k.removeprefix("lznews/"): v for k, v in stats.items() if k.startswith("lznews/")
    }
    summary.update(
        mode=mode, sites=[x.name for x in owned], crawl_id=crawler.settings["LZNEWS_CRAWL_ID"],
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
