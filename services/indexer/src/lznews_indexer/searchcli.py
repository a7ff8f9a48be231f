"""lznews-search: the newest matching articles with highlighted snippets, in a terminal.

    lznews-search 科技创新 --site lzbs --since 2025-01-01 --entity 兰州市科技局

Exit status: 0 with hits, 1 without, 2 on errors (like grep); errors are one line on stderr.

Whatever the index holds is printed with control characters as visible escapes (\x1b), in every
output mode: an indexed page cannot set the terminal's title or clear its screen. Highlights are
asked for HTML-encoded, so only the server's own <em> tags mark hits, never tags in the data.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from datetime import date, datetime
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError

from lznews_common.search import es_client
from lznews_common.settings import load_settings
from lznews_common.text_safety import (
    OneLineArgumentParser,
    error_line,
    int_between,
    json_line,
    text_arg,
    visible,
)
from lznews_indexer.templates import ENTITY_KINDS

BOLD, RESET = "\x1b[1;33m", "\x1b[0m"
PLAIN_PRE, PLAIN_POST = "[", "]"
MAX_SIZE = 10_000  # index.max_result_window's default: more is refused by the server anyway
# Text mode: hits marked by the server as <em>…</em> in HTML-encoded text (see _highlighted).
HL_PRE, HL_POST = "<em>", "</em>"
_HL_TAG = re.compile(r"</?em>")


def since_range(value: str) -> dict[str, Any]:
    """A date (Lanzhou's local day, +08:00) or an RFC 3339 timestamp."""
    text_arg(value)
    try:
        date.fromisoformat(value)
        return {"gte": value, "format": "strict_date", "time_zone": "+08:00"}
    except ValueError:
        pass
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date or RFC 3339 time: {value!r}") from exc
    return {"gte": value}


def build_query(
    text: str, *, site: str | None, since: dict[str, Any] | None, entity: str | None
) -> dict[str, Any]:
    must: list[dict[str, Any]] = []
    filters: list[dict[str, Any]] = []
    if text.strip():
        # All terms must match (with bigram analysis a Chinese word is several terms; OR would
        # match almost everything), in the title or the body.
        must.append(
            {
                "multi_match": {
                    "query": text,
                    "fields": ["title^3", "body"],
                    "type": "cross_fields",
                    "operator": "and",
                }
            }
        )
    if site:
        filters.append({"term": {"site": site}})
    if since:
        # Undated articles count by when they were fetched.
        filters.append(
            {
                "bool": {
                    "should": [
                        {"range": {"published_at": since}},
                        {
                            "bool": {
                                "must_not": {"exists": {"field": "published_at"}},
                                "filter": {"range": {"fetched_at": since}},
                            }
                        },
                    ],
                    "minimum_should_match": 1,
                }
            }
        )
    if entity:
        name = entity.strip().strip("《》")
        fields = [f"entities.{k}" for k in ENTITY_KINDS] + ["doc_number", "source", "authors"]
        filters.append(
            {
                "bool": {
                    "should": [{"term": {f: name}} for f in fields],
                    "minimum_should_match": 1,
                }
            }
        )
    return {"bool": {"must": must or [{"match_all": {}}], "filter": filters}}


def search(
    args: argparse.Namespace, pre: str, post: str, encoder: str = "default"
) -> tuple[int, list[dict[str, Any]]]:
    settings = load_settings()
    es = es_client(settings)
    resp = es.search(
        index=args.index or settings.es_alias,
        query=build_query(args.query, site=args.site, since=args.since, entity=args.entity),
        sort=[
            {"published_at": {"order": "desc", "missing": "_last"}},
            {"fetched_at": {"order": "desc"}},
            "_score",
        ],
        size=args.size,
        track_total_hits=True,
        source_includes=["title", "url", "site", "published_at", "source", "doc_number", "body"],
        highlight={
            "encoder": encoder,
            "pre_tags": [pre],
            "post_tags": [post],
            "fields": {
                "title": {"number_of_fragments": 0},
                "body": {"fragment_size": 80, "number_of_fragments": 2},
            },
        },
    )
    return resp["hits"]["total"]["value"], resp["hits"]["hits"]


def _line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _str(value: Any) -> str:
    """A source field as text, whatever the index returned (null, a number, a list)."""
    return value if isinstance(value, str) else "" if value is None else str(value)


def _plain(value: Any) -> str:
    """A source field on one line for a terminal (a title's own newlines shown as \\n)."""
    return visible(_str(value).strip())


def _highlighted(fragment: str, pre: str, post: str) -> str:
    """An HTML-encoded highlight fragment: the server's <em> tags become `pre`/`post`, the text
    between is decoded and made visible. A literal "<em>" in the data arrived encoded
    (&lt;em&gt;), so it is shown as text, never taken for a hit."""
    pieces = _HL_TAG.split(fragment)
    return "".join(
        f"{pre}{visible(html.unescape(p))}{post}" if i % 2 else visible(html.unescape(p))
        for i, p in enumerate(pieces)
    )


def render(total: int, hits: list[dict[str, Any]], out: Any, pre: str = PLAIN_PRE,
           post: str = PLAIN_POST) -> None:
    for hit in hits:
        src = hit.get("_source") or {}
        hl = hit.get("highlight") or {}
        titles = hl.get("title") or []
        title = _highlighted(titles[0].strip(), pre, post) if titles else _plain(src.get("title"))
        when = _plain(_str(src.get("published_at"))[:10]) or "undated"
        extra = f"  {_plain(src['doc_number'])}" if src.get("doc_number") else ""
        print(f"{when}  {_plain(src.get('site'))}  {title}{extra}", file=out)
        print(f"    {_plain(src.get('url'))}", file=out)
        snippets = [_highlighted(_line(s), pre, post) for s in hl.get("body") or []]
        for snippet in snippets or [visible(_line(_str(src.get("body"))[:80]))]:
            print(f"    …{snippet}…", file=out)
        print(file=out)
    print(f"{len(hits)} of {total} matching article(s), newest first", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = OneLineArgumentParser(
        prog="lznews-search", description="Search indexed articles, newest first."
    )
    parser.add_argument("query", nargs="?", default="", type=text_arg,
                        help="words to find (title and body)")
    parser.add_argument("--site", type=text_arg, help="only this site (e.g. lzbs)")
    parser.add_argument(
        "--since", type=since_range, help="published on or after (YYYY-MM-DD, +08:00, or RFC 3339)"
    )
    parser.add_argument(
        "--entity", type=text_arg,
        help="an exact organisation, place, person, policy document or doc number",
    )
    parser.add_argument("-n", "--size", type=int_between(1, MAX_SIZE), default=10,
                        help=f"how many, 1 to {MAX_SIZE} (default 10)")
    parser.add_argument("--index", type=text_arg, help="index or alias (default LZNEWS_ES_ALIAS)")
    parser.add_argument("--json", action="store_true", help="print the raw hits as JSON lines")
    parser.add_argument(
        "--color", choices=["auto", "always", "never"], default="auto", help="highlight style"
    )
    args = parser.parse_args(argv)
    if not args.query.strip() and not (args.entity or args.site or args.since):
        parser.error("give QUERY or at least one of --site/--since/--entity")
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    pre, post = (BOLD, RESET) if color else (PLAIN_PRE, PLAIN_POST)
    try:
        if args.json:  # the hits as the server gave them, highlighted with pre/post
            total, hits = search(args, pre, post)
        else:
            total, hits = search(args, HL_PRE, HL_POST, encoder="html")
    except (ApiError, TransportError) as exc:
        print(f"lznews-search: {error_line(exc)}", file=sys.stderr)
        return 2
    if args.json:
        for hit in hits:
            print(json_line(hit))
    else:
        render(total, hits, sys.stdout, pre, post)
    return 0 if hits else 1


if __name__ == "__main__":
    sys.exit(main())
