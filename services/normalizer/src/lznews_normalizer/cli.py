"""lznews-normalize FILE --url URL: run the normaliser on one saved page, print the article."""

from __future__ import annotations

import argparse
import base64
import json
import sys
from datetime import UTC, datetime
from urllib.parse import urlsplit

from lznews_common.urls import is_http_url

from .errors import NotAnArticle, StageError
from .pipeline import normalize

SITES = {
    "lzbs.com.cn": "lzbs",
    "lanzhou.gov.cn": "lanzhou_gov",
    "people.com.cn": "people_gansu",
    "news.cn": "xinhua_gansu",
    "xinhuanet.com": "xinhua_gansu",
    "china.com.cn": "china_com_cn",
}


def guess_site(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    for domain, key in SITES.items():
        if host == domain or host.endswith("." + domain):
            return key
    return host or "unknown"


def page_url(value: str) -> str:
    """An absolute http(s) URL with a host: what the crawler would have fetched."""
    if not is_http_url(value):
        raise argparse.ArgumentTypeError(f"not an absolute http(s) URL: {value!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="lznews-normalize", description=__doc__)
    ap.add_argument("file", help="saved page (raw bytes as fetched)")
    ap.add_argument("--url", required=True, type=page_url,
                    help="URL the page was fetched from (absolute http or https)")
    ap.add_argument("--content-type", default=None, help="Content-Type header value, if known")
    ap.add_argument("--site", default=None, help="site key (default: guessed from the URL)")
    args = ap.parse_args(argv)
    try:
        with open(args.file, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        print(f"lznews-normalize: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    raw = {
        "url": args.url,
        "final_url": args.url,
        "site": args.site or guess_site(args.url),
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "http_status": 200,
        "headers": {"content-type": args.content_type, "last-modified": None, "etag": None},
        "body_b64": base64.b64encode(data).decode("ascii"),
        "crawl_id": "cli",
    }
    try:
        article = normalize(raw)
    except NotAnArticle as exc:
        print(f"lznews-normalize: not an article ({exc.stage}): {exc.reason}", file=sys.stderr)
        return 2
    except StageError as exc:
        print(f"lznews-normalize: failed in {exc.stage}: {exc.reason}", file=sys.stderr)
        return 2
    try:
        json.dump(article, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into head
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
