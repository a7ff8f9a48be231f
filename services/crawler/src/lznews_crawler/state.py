"""The seen-store's owner in the crawl: a Scrapy extension.

The spider (what to fetch) and KafkaPipeline (what Kafka acknowledged) share one seen-store;
this extension opens it for the sites this replica owns when the crawler builds its extensions,
before the spider opens, and closes it on spider_closed, which Scrapy sends after every item
pipeline has closed, so the last acknowledgements are still marked. Both reach it through
`seen_store(crawler)`.
"""

from __future__ import annotations

from scrapy import signals
from scrapy.crawler import Crawler

from lznews_common.settings import Settings
from lznews_crawler.seenstore import SeenStore


class SeenStoreExtension:
    def __init__(self, crawler: Crawler) -> None:
        s: Settings = crawler.settings["LZNEWS_SETTINGS"]
        self.store = SeenStore(s.crawler_state_dir)
        self.store.open_sites(crawler.settings.getlist("LZNEWS_OWNED_SITES"))
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeenStoreExtension:
        return cls(crawler)

    def _closed(self) -> None:
        self.store.close()


def seen_store(crawler: Crawler) -> SeenStore:
    """The crawl's seen-store (once the crawler has built its extensions)."""
    extension = crawler.get_extension(SeenStoreExtension)
    if extension is None:
        raise RuntimeError("lznews_crawler.state.SeenStoreExtension is not in EXTENSIONS")
    return extension.store
