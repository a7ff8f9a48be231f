"""Scrapy settings from LZNEWS_* settings, the site list and the crawl's mode.

The crawl's own objects are built from these by Scrapy components, never handed to the spider:
the seen-store by SeenStoreExtension (state.py), the Kafka producer, Publisher and dead-letter
sink by KafkaPipeline (pipelines.py).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from lznews_common.settings import Settings
from lznews_crawler.safety import AddressCheck
from lznews_crawler.sites import Site, SiteList

MW = "lznews_crawler.middlewares"

Mode = Literal["continuous", "once", "backfill"]


def scrapy_settings(s: Settings, sites: SiteList, owned: list[Site], *,
                    mode: Mode = "continuous", since: date | None = None,
                    max_pages: int | None = None) -> dict[str, Any]:
    """`since` and `max_pages` are backfill's: skip articles whose URL date is earlier, and
    walk at most this many listing pages per site."""
    min_delay = min((site.download_delay_s for site in owned), default=1.0)
    return {
        "BOT_NAME": "lznews",
        "USER_AGENT": s.crawler_user_agent,
        "ROBOTSTXT_OBEY": True,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": s.log_level.upper(),
        # Politeness: one download slot per site (its hosts and gateways together).
        "CONCURRENT_REQUESTS": s.crawler_concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "DOWNLOAD_DELAY": 0.0,  # per-site delays live in DOWNLOAD_SLOTS
        "DOWNLOAD_SLOTS": {
            site.name: {"concurrency": site.concurrency, "delay": site.download_delay_s,
                        "jitter": 0.5 if site.download_delay_s else 0.0}
            for site in owned
        },
        "AUTOTHROTTLE_ENABLED": s.crawler_autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(min_delay, 1.0),
        "AUTOTHROTTLE_MAX_DELAY": 60.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "EXTENSIONS": {
            "scrapy.extensions.throttle.AutoThrottle": None,
            "lznews_crawler.throttle.SiteAutoThrottle": 0,
            "lznews_crawler.state.SeenStoreExtension": 0,
            f"{MW}.ResponseSizeCap": 0,
        },
        # Safety and robustness.
        "DOWNLOAD_TIMEOUT": s.crawler_timeout_s,
        "DOWNLOAD_MAXSIZE": s.crawler_max_page_bytes,
        "DOWNLOAD_WARNSIZE": s.crawler_max_page_bytes // 2,
        "RETRY_TIMES": s.crawler_retries,
        "REDIRECT_MAX_TIMES": 5,
        # http(s) only, whatever a middleware lets through.
        "DOWNLOAD_HANDLERS": {"data": None, "file": None, "s3": None, "ftp": None},
        # The downloader connects to the addresses SafetyMiddleware checked (safety.py).
        "TWISTED_DNS_RESOLVER": "lznews_crawler.safety.PinnedResolver",
        "LZNEWS_ADDRESS_CHECK": AddressCheck(),
        "DOWNLOADER_MIDDLEWARES": {
            f"{MW}.SafetyMiddleware": 40,
            # Scrapy's own offsite filter drops off-domain redirects silently at scheduling
            # time (no errback, so no dead letter); SafetyMiddleware refuses them per site.
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            f"{MW}.BackoffRetryMiddleware": 550,
            f"{MW}.FetchMetricsMiddleware": 950,
        },
        "ITEM_PIPELINES": {"lznews_crawler.pipelines.KafkaPipeline": 300},
        # The seen-store decides what is fetched; Scrapy's in-memory dupefilter would also
        # block the listing re-visits of continuous mode.
        "DUPEFILTER_CLASS": "scrapy.dupefilters.BaseDupeFilter",
        "LZNEWS_SETTINGS": s,
        "LZNEWS_SITES": sites,
        "LZNEWS_OWNED_SITES": [site.name for site in owned],
        "LZNEWS_MODE": mode,
        "LZNEWS_SINCE": since,
        "LZNEWS_MAX_PAGES": max_pages,
        # One id per process run, stamped on every raw page (RawPage.crawl_id).
        "LZNEWS_CRAWL_ID": uuid.uuid4().hex[:16],
        "LZNEWS_HOST_MAP": s.crawler_host_map,
        "LZNEWS_ALLOW_PRIVATE": s.crawler_allow_private,
        "LZNEWS_RETRY_BACKOFF_S": s.crawler_retry_backoff_s,
    }
