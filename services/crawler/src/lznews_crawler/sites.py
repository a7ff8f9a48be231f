"""The site list: what to crawl, read from YAML/JSON so operators add sites without code."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from lznews_common.urls import canonical_url, is_http_url

BUNDLED = "sites.yaml"

# Keys a site entry may carry; anything else is a typo an operator should hear about.
_SITE_KEYS = {
    "name", "title", "allowed_domains", "listing_urls", "article_patterns",
    "listing_page_patterns", "canonical_rewrites", "date_pattern", "encoding", "interval_s",
    "download_delay_s", "concurrency", "max_listing_pages", "enabled",
}


class SiteConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Rewrite:
    pattern: re.Pattern[str]
    replace: str


@dataclass(frozen=True)
class Site:
    name: str
    title: str
    allowed_domains: tuple[str, ...]
    listing_urls: tuple[str, ...]
    article_patterns: tuple[re.Pattern[str], ...]
    listing_page_patterns: tuple[re.Pattern[str], ...] = ()
    canonical_rewrites: tuple[Rewrite, ...] = ()
    date_pattern: re.Pattern[str] | None = None
    encoding: str | None = None
    interval_s: float = 900.0
    download_delay_s: float = 1.0
    concurrency: int = 2
    max_listing_pages: int = 5
    enabled: bool = True

    def allows_host(self, host: str | None) -> bool:
        return host_in_domains(host, self.allowed_domains)

    def is_article(self, url: str) -> bool:
        return self._fetchable(url) and any(p.search(url) for p in self.article_patterns)

    def is_listing_page(self, url: str) -> bool:
        return self._fetchable(url) and any(p.search(url) for p in self.listing_page_patterns)

    def _fetchable(self, url: str) -> bool:
        # The URLs kept become seen-store entries and Kafka keys: http(s), on the site.
        return is_http_url(url) and self.allows_host(urlsplit(url).hostname)

    def canonical(self, url: str) -> str:
        """One spelling per article: the site's gateway rewrites, then the shared canonical form."""
        for rw in self.canonical_rewrites:
            url = rw.pattern.sub(rw.replace, url, count=1)
        return canonical_url(url)

    def article_date(self, url: str) -> date | None:
        """The publication date the URL carries (groups y, m, d), if the site has a pattern."""
        if self.date_pattern is None:
            return None
        m = self.date_pattern.search(url)
        if not m:
            return None
        try:
            return date(int(m["y"]), int(m["m"]), int(m["d"]))
        except ValueError:
            return None



def host_in_domains(host: str | None, domains: tuple[str, ...] | list[str]) -> bool:
    if not host:
        return False
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


def _regexes(values: Any, where: str) -> tuple[re.Pattern[str], ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    try:
        return tuple(re.compile(v) for v in values)
    except re.error as exc:
        raise SiteConfigError(f"{where}: bad regular expression: {exc}") from exc


def _site(entry: dict[str, Any], defaults: dict[str, Any]) -> Site:
    name = entry.get("name")
    if not name or not re.fullmatch(r"[a-z0-9_]+", str(name)):
        raise SiteConfigError(f"site name must be [a-z0-9_]+, got {name!r}")
    unknown = set(entry) - _SITE_KEYS
    if unknown:
        raise SiteConfigError(f"site {name}: unknown keys {sorted(unknown)}")
    merged = {**defaults, **entry}
    for key in ("allowed_domains", "listing_urls", "article_patterns"):
        if not merged.get(key):
            raise SiteConfigError(f"site {name}: {key} is required")
    rewrites = tuple(
        Rewrite(_regexes(r["pattern"], f"site {name} canonical_rewrites")[0], r["replace"])
        for r in merged.get("canonical_rewrites") or ()
    )
    date_re = _regexes(merged.get("date_pattern"), f"site {name} date_pattern")
    site = Site(
        name=name,
        title=str(merged.get("title", name)),
        allowed_domains=tuple(d.lower() for d in merged["allowed_domains"]),
        listing_urls=tuple(merged["listing_urls"]),
        article_patterns=_regexes(merged["article_patterns"], f"site {name} article_patterns"),
        listing_page_patterns=_regexes(
            merged.get("listing_page_patterns"), f"site {name} listing_page_patterns"
        ),
        canonical_rewrites=rewrites,
        date_pattern=date_re[0] if date_re else None,
        encoding=merged.get("encoding"),
        interval_s=float(merged.get("interval_s", 900)),
        download_delay_s=float(merged.get("download_delay_s", 1.0)),
        concurrency=int(merged.get("concurrency", 2)),
        max_listing_pages=int(merged.get("max_listing_pages", 5)),
        enabled=bool(merged.get("enabled", True)),
    )
    for url in site.listing_urls:
        if not is_http_url(url):
            raise SiteConfigError(f"site {name}: listing {url!r} is not an absolute http(s) URL")
        if not site.allows_host(urlsplit(url).hostname):
            raise SiteConfigError(f"site {name}: listing {url} is outside allowed_domains")
    return site


@dataclass(frozen=True)
class SiteList:
    sites: tuple[Site, ...]
    source: str = BUNDLED
    by_name: dict[str, Site] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.by_name.update({s.name: s for s in self.sites})

    def for_host(self, host: str | None) -> Site | None:
        return next((s for s in self.sites if s.allows_host(host)), None)

    def owned(self, replica_index: int, replica_count: int) -> list[Site]:
        return [
            s for s in self.sites
            if s.enabled and owner(s.name, replica_count) == replica_index
        ]


def parse_sites(text: str, source: str) -> SiteList:
    """YAML (JSON is YAML too): {defaults: {...}, sites: [{...}, ...]}."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SiteConfigError(f"{source}: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("sites"), list):
        raise SiteConfigError(f"{source}: expected a mapping with a 'sites' list")
    defaults = doc.get("defaults") or {}
    sites = tuple(_site(e, defaults) for e in doc["sites"])
    names = [s.name for s in sites]
    if len(set(names)) != len(names):
        raise SiteConfigError(f"{source}: duplicate site names")
    return SiteList(sites, source)


def load_sites(path: str | Path | None = None) -> SiteList:
    if path:
        return parse_sites(Path(path).read_text("utf-8"), str(path))
    text = resources.files("lznews_crawler").joinpath("data", BUNDLED).read_text("utf-8")
    return parse_sites(text, BUNDLED)


def owner(site_name: str, replica_count: int) -> int:
    """Rendezvous hashing: the replica with the highest score owns the site.

    Changing the replica count moves only the sites whose top scorer changed.
    """
    if replica_count <= 1:
        return 0

    def score(i: int) -> int:
        return int.from_bytes(hashlib.sha256(f"{site_name}/{i}".encode()).digest()[:8], "big")

    return max(range(replica_count), key=score)


def parse_host_map(spec: str) -> dict[str, tuple[str, int]]:
    """`host=addr:port,...` (`*` = every host) -> {host: (addr, port)}."""
    result: dict[str, tuple[str, int]] = {}
    for pair in filter(None, (p.strip() for p in spec.split(","))):
        host, sep, target = pair.partition("=")
        addr, colon, port = target.strip().rpartition(":")
        if not sep or not colon or not port.isdigit():
            raise SiteConfigError(f"host map entry {pair!r} is not host=addr:port")
        result[host.strip().lower()] = (addr.strip("[]"), int(port))
    return result
