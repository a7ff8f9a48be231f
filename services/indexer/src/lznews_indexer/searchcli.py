"""lznews-search: the newest matching articles with highlighted snippets, in a terminal.

    lznews-search 科技创新 --site lzbs --since 2025-01-01 --entity 兰州市科技局

Exit status: 0 with hits, 1 without, 2 on errors (like grep).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date, datetime
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError

from lznews_common.search import es_client
from lznews_common.settings import load_settings
from lznews_indexer.templates import ENTITY_KINDS

BOLD, RESET = "\x1b[1;33m", "\x1b[0m"
PLAIN_PRE, PLAIN_POST = "[", "]"


def since_range(value: str) -> dict[str, Any]:
    """A date (Lanzhou's local day, +08:00) or an RFC 3339 timestamp."""
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
    args: argparse.Namespace, pre: str, post: str
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


def render(total: int, hits: list[dict[str, Any]], out: Any) -> None:
    for hit in hits:
        src = hit["_source"]
        hl = hit.get("highlight", {})
        title = hl.get("title", [src.get("title", "")])[0]
        when = (src.get("published_at") or "")[:10] or "undated"
        extra = f"  {src['doc_number']}" if src.get("doc_number") else ""
        print(f"{when}  {src.get('site', '')}  {title}{extra}", file=out)
        print(f"    {src.get('url', '')}", file=out)
        snippets = hl.get("body") or [(src.get("body") or "")[:80]]
        for snippet in snippets:
            print(f"    …{_line(snippet)}…", file=out)
        print(file=out)
    print(f"{len(hits)} of {total} matching article(s), newest first", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="lznews-search", description="Search indexed articles, newest first."
    )
    parser.add_argument("query", nargs="?", default="", help="words to find (title and body)")
    parser.add_argument("--site", help="only this site (e.g. lzbs)")
    parser.add_argument(
        "--since", type=since_range, help="published on or after (YYYY-MM-DD, +08:00, or RFC 3339)"
    )
    parser.add_argument(
        "--entity", help="an exact organisation, place, person, policy document or doc number"
    )
    parser.add_argument("-n", "--size", type=int, default=10, help="how many (default 10)")
    parser.add_argument("--index", help="index or alias (default LZNEWS_ES_ALIAS)")
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
        total, hits = search(args, pre, post)
    except (ApiError, TransportError) as exc:
        print(f"lznews-search: {exc}", file=sys.stderr)
        return 2
    if args.json:
        for hit in hits:
            print(json.dumps(hit, ensure_ascii=False))
    else:
        render(total, hits, sys.stdout)
    return 0 if hits else 1


if __name__ == "__main__":
    sys.exit(main())
