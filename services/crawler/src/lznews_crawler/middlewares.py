"""Downloader middlewares: safety rules and routing, retry backoff, fetch metrics."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Response
from scrapy.http.headers import Headers

from lznews_common.metrics import CRAWLER_BYTES, CRAWLER_FILTERED, CRAWLER_PAGES
from lznews_crawler.safety import AddressCheck, Refused
from lznews_crawler.sites import Site, SiteList, parse_host_map

log = logging.getLogger(__name__)

BODY_SIZE = "lznews_body_size"  # request.meta: body bytes announced or received so far


def site_of(request: Request, sites: SiteList) -> Site | None:
    name = request.meta.get("site")
    if name:
        return sites.by_name.get(name)
    return sites.for_host(urlsplit(request.url).hostname)


class SafetyMiddleware:
    """Runs before robots.txt handling, so a refused request causes no traffic at all.

    - only http(s), and only the hosts of the request's own site (a redirect out of them is
      refused as `offsite_redirect`, a redirect to another scheme as `scheme`);
    - the host map: a mapped host's requests go to the mapped address in proxy form, with
      their real URL (so robots.txt, domains and canonical URLs stay the real ones);
    - no private, loopback or link-local destination unless LZNEWS_CRAWLER_ALLOW_PRIVATE;
      the address checked is the one really connected to (the mapped one, if mapped): the
      check pins it for PinnedResolver. A host the check cannot resolve is refused (`dns`).
    """

    def __init__(self, crawler: Crawler) -> None:
        rt = crawler.settings["LZNEWS_SITES"]
        self.sites: SiteList = rt
        self.host_map = parse_host_map(crawler.settings.get("LZNEWS_HOST_MAP", ""))
        self.allow_private = crawler.settings.getbool("LZNEWS_ALLOW_PRIVATE")
        self.check: AddressCheck = crawler.settings["LZNEWS_ADDRESS_CHECK"]
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SafetyMiddleware:
        return cls(crawler)

    def _refuse(self, reason: str, request: Request, detail: str, *,
                transient: bool = False) -> Refused:
        CRAWLER_FILTERED.labels(reason).inc()
        if self.stats:
            self.stats.inc_value(f"lznews/refused/{reason}")
        log.info("refused (%s) %s: %s", reason, request.url, detail)
        return Refused(reason, detail, transient=transient)

    async def process_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            raise self._refuse("scheme", request, parts.scheme)
        site = site_of(request, self.sites)
        if site is None or not site.allows_host(host):
            redirected = bool(request.meta.get("redirect_urls"))
            reason = "offsite_redirect" if redirected else "offsite"
            raise self._refuse(reason, request, f"{host} is outside the site's domains")
        if site is not None:
            request.meta.setdefault("download_slot", site.name)
        target = self.host_map.get(host) or self.host_map.get("*")
        if target is not None:
            addr, port = target
            request.meta["proxy"] = f"http://{addr}:{port}"
            connect_host = addr
        else:
            connect_host = host
        if not self.allow_private:
            try:
                bad = await self.check.non_public(connect_host)
            except OSError as exc:  # fail closed: what was not checked is not fetched
                raise self._refuse("dns", request, f"{connect_host} does not resolve: {exc}",
                                   transient=True) from exc
            if bad:
                raise self._refuse("private_address", request, f"{connect_host} -> {bad}")

    def process_response(self, request: Request, response: Response) -> Response:
        # Scrapy's redirect middleware passes a redirect to file:, ftp:, data: and the like
        # through as a plain 3xx response; refuse it by name instead.
        location = response.headers.get("Location")
        if 300 <= response.status < 400 and location:
            target = urljoin(request.url, location.decode("latin-1").strip())
            scheme = urlsplit(target).scheme.lower()
            if scheme not in ("http", "https"):
                raise self._refuse("scheme", request, f"redirect to {target[:100]}")
        return response


class ResponseSizeCap:
    """Stops a body at DOWNLOAD_MAXSIZE and marks the request, so the spider can tell a body
    that is too large from a broken connection whatever way it came: announced by its
    Content-Length or streamed past the cap (which Scrapy itself ends with a bare
    CancelledError). Decompression bombs are cut by Scrapy's HttpCompressionMiddleware."""

    def __init__(self, crawler: Crawler) -> None:
        self.cap = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        crawler.signals.connect(self._headers, signal=signals.headers_received)
        crawler.signals.connect(self._bytes, signal=signals.bytes_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ResponseSizeCap:
        return cls(crawler)

    def _headers(self, headers: Headers, body_length: Any, request: Request,
                 **kwargs: Any) -> None:
        # Each download of a request (retries copy meta) starts counting afresh.
        request.meta[BODY_SIZE] = body_length if isinstance(body_length, int) else 0
        self._stop_if_over(request)

    def _bytes(self, data: bytes, request: Request, **kwargs: Any) -> None:
        request.meta[BODY_SIZE] = request.meta.get(BODY_SIZE, 0) + len(data)
        self._stop_if_over(request)

    def _stop_if_over(self, request: Request) -> None:
        if self.cap and request.meta[BODY_SIZE] > self.cap:
            raise StopDownload(fail=True)


def too_large(request: Request, cap: int) -> bool:
    """Whether the request's response was cut at the size cap."""
    return bool(cap) and request.meta.get(BODY_SIZE, 0) > cap


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry (timeouts, connection errors, 5xx, 429), waiting backoff * 2^(n-1)
    seconds before the n-th retry instead of retrying at once."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backoff_s = settings.getfloat("LZNEWS_RETRY_BACKOFF_S", 1.0)

    async def _wait(self, result: Request | Response | None) -> Any:
        if isinstance(result, Request):
            n = int(result.meta.get("retry_times", 1))
            await asyncio.sleep(self.backoff_s * 2 ** (n - 1))
        return result

    async def process_response(self, request: Request, response: Response) -> Any:
        return await self._wait(super().process_response(request, response))

    async def process_exception(self, request: Request, exception: Exception) -> Any:
        return await self._wait(super().process_exception(request, exception))


class FetchMetricsMiddleware:
    """Next to the downloader: counts every real response (retries, redirects, 304s too)."""

    def __init__(self, crawler: Crawler) -> None:
        self.sites: SiteList = crawler.settings["LZNEWS_SITES"]
        self.cap = crawler.settings.getint("DOWNLOAD_MAXSIZE")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FetchMetricsMiddleware:
        return cls(crawler)

    def _labels(self, request: Request) -> tuple[str, str]:
        site = site_of(request, self.sites)
        kind = request.meta.get("kind")
        if kind is None:
            kind = "robots" if urlsplit(request.url).path == "/robots.txt" else "other"
        return (site.name if site else "unknown"), kind

    def process_response(self, request: Request, response: Response) -> Response:
        site, kind = self._labels(request)
        CRAWLER_PAGES.labels(site, kind, str(response.status)).inc()
        CRAWLER_BYTES.labels(site).inc(len(response.body))
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, IgnoreRequest):  # refusals are counted where they happen
            return None
        site, kind = self._labels(request)
        status = "too_large" if too_large(request, self.cap) else type(exception).__name__
        CRAWLER_PAGES.labels(site, kind, status).inc()
        return None
