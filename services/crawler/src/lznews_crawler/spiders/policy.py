"""The policy-news spider: visit listings, fetch unseen articles, hand them to the pipeline.

Modes: `continuous` re-visits each site every interval_s and never closes by itself; `once`
is one visit of every site; `backfill` walks listing pagination up to --max-pages per site,
ignoring conditional GETs, and skips articles whose URL date is before --since.

The spider reads its sites and mode from the Scrapy settings (config.py) and shares the
crawl's seen-store (state.py); Scrapy's item signals tell it when the pipeline is done with an
article, so that the URL may be queued again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from twisted.internet import task
from twisted.python.failure import Failure

from lznews_common.metrics import CRAWLER_FILTERED, CRAWLER_LAST_LISTING, CRAWLER_SEEN
from lznews_common.models import utcnow
from lznews_common.settings import Settings
from lznews_crawler.config import Mode
from lznews_crawler.items import DeadLetterItem, PageItem
from lznews_crawler.middlewares import too_large
from lznews_crawler.safety import Refused
from lznews_crawler.seenstore import DEAD, DONE, SeenStore
from lznews_crawler.sites import Site, SiteList
from lznews_crawler.state import seen_store

log = logging.getLogger(__name__)

TICK_S = 0.5
LISTING_PRIORITY = 10  # discover before fetching, so a visit's articles queue up early


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value is not None else None


@dataclass
class ListingWalk:
    """One visit's walk of an entry listing and the pagination followed from it.

    The pages' validators (ETag, Last-Modified) are saved only when every page of the walk was
    parsed or answered 304. Saved at once, a crash after page one would leave page one
    answering 304 on the next visit, so the pages behind it would never be read again and
    their articles never discovered."""

    site: str
    outstanding: int = 0
    failed: bool = False
    validators: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    def opened(self) -> None:
        self.outstanding += 1

    def closed(self, store: SeenStore, *, failed: bool = False) -> None:
        self.failed |= failed
        self.outstanding -= 1
        if self.outstanding == 0 and not self.failed:
            for url, etag, modified in self.validators:
                store.set_validators(self.site, url, etag, modified)


class PolicySpider(Spider):
    name = "lznews"
    # From the Scrapy settings, in from_crawler.
    sites: SiteList
    owned: list[Site]
    mode: Mode
    since: date | None  # backfill: skip articles dated earlier
    max_pages: int | None  # backfill: listing pages per site
    max_attempts: int

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inflight: set[str] = set()  # canonical URLs queued or being published
        # Canonical URLs requested in each site's current visit: a pending URL re-queued
        # at the visit's start and failed already must not be fetched again when the
        # listing links it (one attempt per visit, one request's load on the site).
        self.visit_requested: dict[str, set[str]] = {}
        self.next_visit: dict[str, float] = {}
        self.visited_listings: dict[str, set[str]] = {}
        self._ticker: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PolicySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        lznews: Settings = settings["LZNEWS_SETTINGS"]
        spider.sites = settings["LZNEWS_SITES"]
        spider.owned = [spider.sites.by_name[n] for n in settings.getlist("LZNEWS_OWNED_SITES")]
        spider.mode = settings["LZNEWS_MODE"]
        spider.since = settings["LZNEWS_SINCE"]
        spider.max_pages = settings["LZNEWS_MAX_PAGES"]
        spider.max_attempts = lznews.crawler_max_attempts
        spider.allowed_domains = sorted({d for s in spider.owned for d in s.allowed_domains})
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        # Whatever the pipeline made of an item (published, dropped, failed), its URLs may be
        # queued again: the seen-store says whether they still need fetching.
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(spider._release, signal=signal)
        return spider

    @cached_property
    def store(self) -> SeenStore:
        return seen_store(self.crawler)

    # --- scheduling ---------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        for site in self.owned:
            for request in self._visit(site):
                yield request

    def _visit(self, site: Site) -> Iterator[Request]:
        """One visit: the entry listings, plus every URL still pending from earlier visits."""
        self.next_visit[site.name] = time.monotonic() + site.interval_s
        self.visited_listings[site.name] = set(site.listing_urls)
        self.visit_requested[site.name] = set()
        for url in site.listing_urls:
            yield self._listing_request(site, url, 0, ListingWalk(site.name))
        if self.mode != "backfill":
            for p in self.store.pending(site.name):
                if self._wanted(site, p.url):
                    yield self._article_request(site, p.url, p.fetch_url)

    def _opened(self, spider: Spider) -> None:
        CRAWLER_SEEN.set(self.store.size)
        if self.mode == "continuous":
            self._ticker = task.LoopingCall(self._tick)
            self._ticker.start(TICK_S, now=False)

    def _tick(self) -> None:
        now = time.monotonic()
        for site in self.owned:
            if now >= self.next_visit.get(site.name, float("inf")):
                for request in self._visit(site):
                    self.crawler.engine.crawl(request)

    def _idle(self, spider: Spider) -> None:
        if self.mode == "continuous":
            raise DontCloseSpider

    def _closed(self, spider: Spider, reason: str) -> None:
        if self._ticker is not None and self._ticker.running:
            self._ticker.stop()

    def _release(self, item: Any) -> None:
        self.inflight.discard(item.key)
        self.inflight.difference_update(item.aliases)

    # --- requests -------------------------------------------------------------------------------

    def _listing_request(self, site: Site, url: str, depth: int, walk: ListingWalk) -> Request:
        walk.opened()
        headers: dict[str, str] = {}
        if self.mode != "backfill":
            etag, modified = self.store.validators(site.name, url)
            if etag:
                headers["If-None-Match"] = etag
            if modified:
                headers["If-Modified-Since"] = modified
        return Request(
            url, callback=self.parse_listing, errback=self.listing_failed, headers=headers,
            priority=LISTING_PRIORITY,
            meta={"site": site.name, "kind": "listing", "listing": url, "page_depth": depth,
                  "walk": walk, "handle_httpstatus_list": [304]},
        )

    def _wanted(self, site: Site, canonical: str) -> bool:
        """Not queued already, nor requested earlier in this visit."""
        return (canonical not in self.inflight
                and canonical not in self.visit_requested.get(site.name, ()))

    def _article_request(self, site: Site, canonical: str, url: str) -> Request:
        self.inflight.add(canonical)
        self.visit_requested.setdefault(site.name, set()).add(canonical)
        return Request(
            url, callback=self.parse_article, errback=self.article_failed,
            meta={"site": site.name, "kind": "article", "canonical": canonical},
        )

    # --- listings -------------------------------------------------------------------------------

    def parse_listing(self, response: Response) -> Iterator[Request]:
        site = self.sites.by_name[response.meta["site"]]
        walk: ListingWalk = response.meta["walk"]
        if response.status == 304:
            CRAWLER_LAST_LISTING.labels(site.name).set(time.time())
            self.crawler.stats.inc_value("lznews/listing_not_modified")
            walk.closed(self.store)
            return
        if not isinstance(response, TextResponse):
            log.warning("listing %s is not text (%s)", response.url, _header(response,
                                                                              "Content-Type"))
            walk.closed(self.store, failed=True)
            return
        if site.encoding:
            response = response.replace(encoding=site.encoding)
        walk.validators.append((response.meta["listing"], _header(response, "ETag"),
                                _header(response, "Last-Modified")))
        CRAWLER_LAST_LISTING.labels(site.name).set(time.time())

        unfinished = in_range = 0
        more_pages: list[str] = []
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href.strip())
            if site.is_article(url):
                canonical = site.canonical(url)
                day = site.article_date(canonical)
                if self.since is not None and day is not None and day < self.since:
                    continue
                in_range += 1
                state = self.store.state(site.name, canonical)
                if state in (DONE, DEAD):
                    continue
                unfinished += 1
                if state is None:
                    self.store.add_pending(site.name, canonical, url)
                    self.crawler.stats.inc_value("lznews/discovered")
                if self._wanted(site, canonical):
                    yield self._article_request(site, canonical, url)
            elif site.is_listing_page(url):
                more_pages.append(url.split("#", 1)[0])
        CRAWLER_SEEN.set(self.store.size)

        # Pagination: continuous visits stop at the first page with nothing new, unless the
        # next page was never walked to the end (a crash or failure cut the walk short); a
        # backfill goes on while pages still hold articles on or after --since, up to
        # --max-pages.
        depth = response.meta["page_depth"]
        cap = self.max_pages if self.max_pages is not None else site.max_listing_pages
        if depth + 1 < cap:
            seen = self.visited_listings.setdefault(site.name, set())
            for url in more_pages:
                if url in seen:
                    continue
                if self.mode == "backfill":
                    follow = in_range > 0
                else:
                    follow = unfinished > 0 or not self.store.walked(site.name, url)
                if follow:
                    seen.add(url)
                    yield self._listing_request(site, url, depth + 1, walk)
        # Last, after every discovered article is pending in the store and every next page
        # is counted in the walk.
        walk.closed(self.store)

    def listing_failed(self, failure: Failure) -> None:
        # Not dead-lettered: a broken listing repeats every interval; the staleness of
        # lznews_crawler_last_listing_success_timestamp_seconds is what alerts.
        _, reason, error = self._failure_kind(failure.request, failure.value)
        log.warning("listing %s failed (%s: %s)", failure.request.url, reason, error)
        failure.request.meta["walk"].closed(self.store, failed=True)

    # --- articles -------------------------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterator[PageItem | DeadLetterItem]:
        site = self.sites.by_name[response.meta["site"]]
        canonical = response.meta["canonical"]
        first_url = (response.meta.get("redirect_urls") or [response.url])[0]
        final = site.canonical(response.url)
        aliases = tuple(dict.fromkeys((canonical, final)))
        if final != canonical and not site.is_article(response.url):
            yield self._dead(site, canonical, first_url, "redirect_not_article",
                             f"redirected to {response.url}, not an article URL")
            return
        if final != canonical and self.store.state(site.name, final) == DONE:
            self.store.mark_done(site.name, canonical)  # a second spelling of a published page
            self.inflight.discard(canonical)
            return
        yield PageItem(
            site=site.name, url=first_url, final_url=response.url, key=final, aliases=aliases,
            status=response.status, body=response.body, fetched_at=utcnow(),
            headers={
                "content-type": _header(response, "Content-Type"),
                "last-modified": _header(response, "Last-Modified"),
                "etag": _header(response, "ETag"),
            },
        )

    def article_failed(self, failure: Failure) -> Iterator[DeadLetterItem]:
        request: Request = failure.request
        site = self.sites.by_name[request.meta["site"]]
        canonical = request.meta["canonical"]
        exc = failure.value
        permanent, reason, error = self._failure_kind(request, exc)
        body = exc.response.body if isinstance(exc, HttpError) else None
        if reason == "robots_disallowed":
            CRAWLER_FILTERED.labels("robots").inc()
        if not permanent:
            attempts = self.store.record_failure(site.name, canonical)
            self.inflight.discard(canonical)
            log.warning("article %s failed (%s: %s), visit %d of %d", request.url, reason,
                        error, attempts, self.max_attempts)
            if attempts < self.max_attempts:
                return
            reason = f"{reason}_gave_up"
        else:
            log.warning("article %s failed for good (%s: %s)", request.url, reason, error)
        yield self._dead(site, canonical, request.url, reason, error, body)

    def _failure_kind(self, request: Request, exc: BaseException) -> tuple[bool, str, str]:
        """(permanent, reason, error text) of a failed article fetch. Permanent failures are
        dead-lettered at once and never fetched again; the others count one attempt."""
        error = str(exc) or type(exc).__name__
        cap = self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
        if isinstance(exc, Refused):
            return not exc.transient, exc.reason, exc.detail
        if too_large(request, cap):  # however the download ended (middlewares.ResponseSizeCap)
            return True, "too_large", f"body larger than the {cap}-byte cap"
        if isinstance(exc.__cause__, _DecompressionMaxSizeExceeded):  # a compression bomb
            return True, "too_large", error
        if isinstance(exc, HttpError):
            status = exc.response.status
            return (400 <= status < 500 and status not in (408, 429)), f"http_{status}", error
        if isinstance(exc, IgnoreRequest) and "robots.txt" in str(exc):
            return True, "robots_disallowed", error
        return False, type(exc).__name__, error

    def _dead(self, site: Site, canonical: str, url: str, reason: str, error: str,
              body: bytes | None = None) -> DeadLetterItem:
        return DeadLetterItem(site=site.name, key=canonical, url=url, error_type=reason,
                              error=error, body=body)
