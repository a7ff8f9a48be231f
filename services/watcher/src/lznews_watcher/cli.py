"""lznews-watch: manage watches (saved searches) in the search cluster.

    lznews-watch add 市政府办公厅发文 --doc-number 兰政办发 --query 科技创新
    lznews-watch add 科技局 --org 兰州市科技局 --site lzbs --on-change
    lznews-watch list [--json]
    lznews-watch test 科技局 -n 5        # what the watch matches among indexed articles
    lznews-watch remove 科技局
    lznews-watch pending                 # alerts claimed but never confirmed (see ledger.py)

Exit status: 0 ok, 1 nothing found (test without hits, remove of an unknown watch), 2 errors.
Errors are one line on stderr. Names and texts read back from the cluster are printed with
control characters as visible escapes (lznews_common.text_safety): a stored watch or an indexed
title cannot drive the terminal.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError
from pydantic import ValidationError

from lznews_common.search import es_client
from lznews_common.settings import load_settings
from lznews_common.text_safety import (
    OneLineArgumentParser,
    error_line,
    int_between,
    json_line,
    one_line,
    text_arg,
    visible,
)
from lznews_watcher.layout import LayoutError, ensure_ledger
from lznews_watcher.ledger import Ledger
from lznews_watcher.store import MAX_WATCHES, WatchStore
from lznews_watcher.watch import HIGHLIGHT, Watch, check_watch_name, compile_query

ENTITY_FLAGS = {
    "org": "organizations",
    "place": "places",
    "person": "people",
    "document": "policy_documents",
}


def _name_arg(value: str) -> str:
    try:
        return check_watch_name(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    p = OneLineArgumentParser(prog="lznews-watch", description="Manage saved-search watches.")
    sub = p.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="save a watch")
    add.add_argument("name", type=_name_arg)
    add.add_argument("--query", "-q", default="", type=text_arg,
                     help="words that must all match title/body")
    for flag, kind in ENTITY_FLAGS.items():
        add.add_argument(f"--{flag}", action="append", default=[], metavar="NAME", type=text_arg,
                         help=f"an exact entity in {kind} (repeatable; all must match)")
    add.add_argument("--site", action="append", default=[], type=text_arg,
                     help="only these sites (repeatable)")
    add.add_argument("--doc-number", type=text_arg,
                     help="document-number prefix (兰政办发) or wildcard (*政办发*)")
    add.add_argument("--on-change", action="store_true",
                     help="alert again when an alerted article's title or body changes")
    lst = sub.add_parser("list", help="list watches")
    lst.add_argument("--json", action="store_true")
    rm = sub.add_parser("remove", help="delete a watch (by name or id)")
    rm.add_argument("watch")
    test = sub.add_parser("test", help="run a watch against the indexed articles")
    test.add_argument("watch")
    test.add_argument("-n", "--size", type=int_between(1, MAX_WATCHES), default=10,
                      help="how many articles (default 10)")
    sub.add_parser("pending", help="alerts claimed but never confirmed published")
    return p


def _print_watch(w: Watch) -> None:
    print(visible(f"{w.id}  {w.name}  {w.describe()}  (created {w.created_at:%Y-%m-%d %H:%M}Z)"))


def _test(store: WatchStore, alias: str, key: str, size: int) -> int:
    w = store.find(key)
    if w is None:
        print(f"lznews-watch: no watch {key!r}", file=sys.stderr)
        return 1
    resp = store.es.search(
        index=alias, query=compile_query(w), size=size, highlight=HIGHLIGHT,
        sort=[{"published_at": {"order": "desc", "missing": "_last"}}, "_score"],
        source_includes=["title", "url", "published_at", "doc_number"], track_total_hits=True,
    )
    hits: list[dict[str, Any]] = resp["hits"]["hits"]
    for h in hits:
        src = h["_source"]
        hl = h.get("highlight", {})
        title = hl.get("title", [src.get("title") or ""])[0]
        print(visible(f"{(src.get('published_at') or '')[:10] or 'undated'}  "
                      f"{title}  {src.get('doc_number') or ''}".rstrip()))
        print(f"    {visible(src.get('url') or '')}")
        for frag in hl.get("body", [])[:2]:
            print(f"    …{one_line(frag, limit=400)}…")
    print(f"{len(hits)} of {resp['hits']['total']['value']} indexed article(s) match {w.name!r}")
    return 0 if hits else 1


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    es = es_client(settings)
    store = WatchStore(es, settings.es_alias)
    if args.command == "add":
        entities = {k: getattr(args, f) for f, k in ENTITY_FLAGS.items() if getattr(args, f)}
        w = Watch(name=args.name, text=args.query, entities=entities, sites=args.site,
                  doc_number=args.doc_number, on_change=args.on_change)
        store.ensure()
        store.add(w)
        _print_watch(w)
        return 0
    if args.command == "list":
        watches = store.list()
        for w in watches:
            if args.json:
                print(json_line(w.model_dump(mode="json")))
            else:
                _print_watch(w)
        return 0
    if args.command == "remove":
        removed = store.remove(args.watch)
        if removed is None:
            print(f"lznews-watch: no watch {args.watch!r}", file=sys.stderr)
            return 1
        print(visible(f"removed {removed.id} {removed.name}"))
        return 0
    if args.command == "test":
        return _test(store, settings.es_alias, args.watch, args.size)
    ensure_ledger(es, settings.es_alias)
    for entry in Ledger(es, settings.es_alias, token="cli").unconfirmed():
        print(visible(f"{entry['claimed_at']}  {entry['id']}  {entry.get('watch', '')}"))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return run(args)
    except ValidationError as exc:
        # pydantic's own text spans lines and repeats the input; name the fields instead.
        why = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'watch'}: {e['msg']}"
                        for e in exc.errors())
        print(f"lznews-watch: {one_line(why)}", file=sys.stderr)
        return 2
    except (ValueError, LayoutError) as exc:
        print(f"lznews-watch: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except (ApiError, TransportError) as exc:
        print(f"lznews-watch: {error_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
