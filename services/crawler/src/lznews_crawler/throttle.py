"""AutoThrottle that never goes below a site's own download delay."""

from __future__ import annotations

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response


class SiteAutoThrottle(AutoThrottle):
    """Scrapy's AutoThrottle adapts a slot's delay to latency but only floors it at the global
    DOWNLOAD_DELAY; each site's slot (named after the site) keeps its configured delay."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        slots = crawler.settings.getdict("DOWNLOAD_SLOTS")
        self.floors = {key: float(cfg.get("delay", 0.0)) for key, cfg in slots.items()}

    def _response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        super()._response_downloaded(response, request, spider)
        key, slot = self._get_slot(request, spider)
        if key is not None and slot is not None:
            slot.delay = max(slot.delay, self.floors.get(key, 0.0))
