"""Crawler throughput: one `lznews-crawler crawl --once` process publishing to a real Tansu
broker, beside a plain Scrapy spider fetching the same pages without publishing.

The fixture mirror is scaled up for this (the five constructed sites, each with --articles
article pages copied from the fixture articles, behind paginated listings) and served on
127.0.0.1. Prints pages/s and MB/s of both and their ratio. Not a test: figures depend on the
machine (2 cores here, shared by the mirror, the broker and the crawler).

    python bench/bench_crawler.py [--articles 400]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT / "fixtures" / "articles"
BIN = Path(sys.executable).parent
PER_LISTING = 50

# host, first listing, further listing pages ({k} from 2), article path ({n}), source page
SHAPES = [
    ("www.lzbs.com.cn", "/lanzhounews/node_3321.htm", "/lanzhounews/node_3321_{k}.htm",
     "/lanzhounews/2024-11/20/content_{n}.htm", "003_lzbs.html"),
    ("www.lanzhou.gov.cn", "/col/col4/index.html", "/col/col4/index_{k}.html",
     "/art/2024/11/20/art_4_{n}.html", "004_lanzhou_gov.html"),
    ("gansu.people.com.cn", "/GB/183283/index.html", "/GB/183283/index{k}.html",
     "/n2/2024/1120/c183283-{n}.html", "000_people_gansu.html"),
    ("www.gs.news.cn", "/lanzhou/index.htm", None,
     "/20241120/{n:032x}/c.html", "006_xinhua_gansu.html"),
    ("gansu.china.com.cn", "/node_8045431.htm", None,
     "/2024-11/20/content_{n}.htm", "002_china_com_cn_big5.html"),
]
EMPTY_LISTINGS = [
    ("www.lanzhou.gov.cn", "/col/col10/index.html"),
    ("big5.news.cn", "/gate/big5/www.gs.news.cn/lanzhou/index.htm"),
    ("big5.china.com.cn", "/gate/big5/gansu.china.com.cn/node_8045431.htm"),
]


def _listing(links: list[str], next_page: str | None) -> bytes:
    items = "".join(f'<li><a href="{u}">article</a></li>\n' for u in links)
    more = f'<a href="{next_page}">next</a>' if next_page else ""
    return (f"<!-- CONSTRUCTED benchmark listing -->\n<html><body><ul>{items}</ul>{more}"
            "</body></html>").encode()


def build_mirror(root: Path, articles: int) -> list[str]:
    """Write the scaled mirror; returns every page URL a full crawl fetches."""
    sites = root / "sites"
    urls: list[str] = []
    for host in {s[0] for s in SHAPES} | {h for h, _ in EMPTY_LISTINGS}:
        (sites / host).mkdir(parents=True, exist_ok=True)
        (sites / host / "robots.txt").write_text("User-agent: *\nDisallow: /module/\n")
    for host, first, further, article, source in SHAPES:
        body = (ARTICLES / source).read_bytes()
        paths = [article.format(n=500_000_000 + i) for i in range(articles)]
        for p in paths:
            target = sites / host / p.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
        chunks = ([paths[i:i + PER_LISTING] for i in range(0, len(paths), PER_LISTING)]
                  if further else [paths])
        pages = [first] + [further.format(k=k) for k in range(2, len(chunks) + 1)] if further \
            else [first]
        for i, (page, chunk) in enumerate(zip(pages, chunks, strict=True)):
            nxt = pages[i + 1] if i + 1 < len(pages) else None
            target = sites / host / page.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_listing(chunk, nxt))
        urls += [f"http://{host}{p}" for p in pages + paths]
    for host, page in EMPTY_LISTINGS:
        target = sites / host / page.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_listing([], None))
        urls.append(f"http://{host}{page}")
    (root / "routes.json").write_text(json.dumps({"routes": []}))
    return urls


def sites_file(path: Path, concurrency: int) -> Path:
    doc = yaml.safe_load(
        resources.files("lznews_crawler").joinpath("data", "sites.yaml").read_text("utf-8"))
    for site in doc["sites"]:
        for key in ("interval_s", "download_delay_s", "concurrency", "max_listing_pages"):
            site.pop(key, None)
    doc["defaults"].update(interval_s=3600, download_delay_s=0, concurrency=concurrency,
                           max_listing_pages=1000)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    return path


# --- the plain Scrapy spider (run in its own process: one reactor per process) ----------------

def plain(mirror_port: int, concurrency: int) -> None:
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from lznews_crawler.sites import load_sites

    sites = load_sites(os.environ["LZNEWS_CRAWLER_SITES_FILE"])
    proxy = f"http://127.0.0.1:{mirror_port}"

    class Plain(scrapy.Spider):
        name = "plain"

        async def start(self):  # type: ignore[no-untyped-def]
            for site in sites.sites:
                for url in site.listing_urls:
                    yield scrapy.Request(url, meta={"proxy": proxy, "site": site.name},
                                         callback=self.listing)

        def listing(self, response):  # type: ignore[no-untyped-def]
            site = sites.by_name[response.meta["site"]]
            for href in response.css("a::attr(href)").getall():
                url = response.urljoin(href)
                if site.is_article(url):
                    yield scrapy.Request(url, meta={"proxy": proxy}, callback=self.article)
                elif site.is_listing_page(url):
                    yield scrapy.Request(url, meta={"proxy": proxy, "site": site.name},
                                         callback=self.listing)

        def article(self, response):  # type: ignore[no-untyped-def]
            return None

    process = CrawlerProcess(settings={
        "LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": False, "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False, "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency, "DOWNLOAD_DELAY": 0,
    })
    crawler = process.create_crawler(Plain)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    print(json.dumps({"pages": stats.get("downloader/response_count", 0),
                      "bytes": stats.get("downloader/response_bytes", 0),
                      "elapsed_s": stats.get("elapsed_time_seconds")}))


def _figures(name: str, summary: dict[str, Any]) -> tuple[float, float]:
    pages_s = summary["pages"] / summary["elapsed_s"]
    mb_s = summary["bytes"] / summary["elapsed_s"] / 1e6
    print(f"{name:<34} {summary['pages']:>6} pages {summary['bytes'] / 1e6:>7.1f} MB "
          f"{summary['elapsed_s']:>6.1f} s  {pages_s:>7.1f} pages/s {mb_s:>6.2f} MB/s")
    return pages_s, mb_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=400, help="article pages per site")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--plain", type=int, help=argparse.SUPPRESS)  # internal: mirror port
    args = parser.parse_args()
    if args.plain:
        plain(args.plain, args.concurrency)
        return 0

    from lznews_devstack.mirror import MirrorServer
    from lznews_devstack.processes import free_port
    from lznews_devstack.server import Server

    tmp = Path(tempfile.mkdtemp(prefix="lznews-bench-"))
    broker = Server("kafka", free_port(), tmp / "broker.log")
    mirror = None
    try:
        urls = build_mirror(tmp / "mirror", args.articles)
        mirror = MirrorServer(tmp / "mirror").start()
        broker.start()
        env = {k: v for k, v in os.environ.items() if not k.startswith("LZNEWS_")}
        env.update({
            "LZNEWS_ENV_FILE": str(tmp / "absent.env"),
            "LZNEWS_KAFKA_BOOTSTRAP": broker.address,
            "LZNEWS_TOPIC_PREFIX": "bench-",
            "LZNEWS_CRAWLER_SITES_FILE": str(sites_file(tmp / "sites.yaml", args.concurrency)),
            "LZNEWS_CRAWLER_STATE_DIR": str(tmp / "state"),
            "LZNEWS_CRAWLER_HOST_MAP": f"*=127.0.0.1:{mirror.port}",
            "LZNEWS_CRAWLER_ALLOW_PRIVATE": "true",
            "LZNEWS_CRAWLER_AUTOTHROTTLE": "false",
            "LZNEWS_CRAWLER_CONCURRENCY": str(args.concurrency),
            "LZNEWS_METRICS_PORT": str(free_port()),
            "LZNEWS_LOG_LEVEL": "WARNING",
        })
        print(f"mirror: {len(urls)} pages on 5 sites; Tansu at {broker.address}; "
              f"concurrency {args.concurrency}")
        started = time.monotonic()
        out = subprocess.run([str(BIN / "lznews-crawler"), "crawl", "--once"], env=env,
                             capture_output=True, text=True, check=True)
        wall = time.monotonic() - started
        ours = json.loads(out.stdout.strip().splitlines()[-1])
        plain_out = subprocess.run(
            [sys.executable, __file__, "--plain", str(mirror.port), "--concurrency",
             str(args.concurrency)], env=env, capture_output=True, text=True, check=True)
        theirs = json.loads(plain_out.stdout.strip().splitlines()[-1])
        print(f"lznews-crawler published {ours.get('published', 0)} raw pages "
              f"(process wall time {wall:.1f} s incl. start-up)")
        c_pages, c_mb = _figures("lznews-crawler (robots, Kafka acks)", ours)
        p_pages, p_mb = _figures("plain Scrapy spider (no publishing)", theirs)
        print(f"ratio crawler/plain: {c_pages / p_pages:.2f} (pages/s), "
              f"{c_mb / p_mb:.2f} (MB/s)")
    finally:
        if mirror is not None:
            mirror.stop()
        broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
