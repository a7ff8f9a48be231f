"""lznews-normalize FILE --url URL: run the normaliser on one saved page, print the article."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from lznews_common.models import RawPage
from lznews_common.startup import one_line_errors
from lznews_common.urls import is_http_url

from .errors import NotAnArticle, OffContract, StageError
from .pipeline import normalize_page
from .sites import guess_site


def page_url(value: str) -> str:
    """An absolute http(s) URL with a host: what the crawler would have fetched."""
    if not is_http_url(value):
        raise argparse.ArgumentTypeError(f"not an absolute http(s) URL: {value!r}")
    return value


@one_line_errors("lznews-normalize")  # a bad setting or site list: one line, exit 2
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
    page = RawPage.build(url=args.url, final_url=args.url, site=args.site or guess_site(args.url),
                         http_status=200, body=data,
                         headers={"content-type": args.content_type}, crawl_id="cli",
                         fetched_at=datetime.now(UTC).replace(microsecond=0))
    try:
        article = normalize_page(page)
    except NotAnArticle as exc:
        print(f"lznews-normalize: not an article ({exc.stage}): {exc.reason}", file=sys.stderr)
        return 2
    except StageError as exc:
        print(f"lznews-normalize: failed in {exc.stage}: {exc.reason}", file=sys.stderr)
        return 2
    except OffContract as exc:
        print(f"lznews-normalize: bug: the article is off-contract: {exc}", file=sys.stderr)
        return 2
    try:
        json.dump(article.model_dump(mode="json", by_alias=True), sys.stdout,
                  ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into head
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
