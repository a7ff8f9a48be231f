"""Which watches an article matches, with highlights: one interface, two implementations.

- PercolatorMatcher: the watches index stores each compiled query in a `percolator` field and
  one `percolate` search per article finds the matching watches (Elasticsearch, OpenSearch).
- ScratchIndexMatcher: for clusters without percolation (osmem accepts the field type but
  refuses the query). The batch's articles are indexed into a small scratch index whose mapping
  is copied from the live article index, every watch's compiled query runs once (msearch)
  restricted to those documents, and the documents are deleted again. Same queries, same
  analyzers, so the same matches.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from elasticsearch import ApiError, Elasticsearch, NotFoundError

from lznews_common.models import Article
from lznews_watcher.layout import LayoutError, article_properties, live_mapping
from lznews_watcher.names import WatchIndices
from lznews_watcher.store import MAX_WATCHES, WatchStore
from lznews_watcher.watch import HIGHLIGHT, Watch, compile_query

log = logging.getLogger(__name__)


@dataclass
class Match:
    watch: Watch
    article: Article
    highlights: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class MatchResult:
    matches: list[Match] = field(default_factory=list)
    # Articles the cluster refused to analyse (id -> reason): dead-lettered by the worker.
    refused: dict[str, str] = field(default_factory=dict)


class Matcher(Protocol):
    kind: str

    def prepare(self) -> None:
        """(Re)create what matching needs; called at start and before every retry."""

    def set_watches(self, watches: list[Watch]) -> None: ...

    def match(self, article: Article) -> list[Match]: ...

    def match_many(self, articles: list[Article]) -> MatchResult: ...


def _highlights(hit: dict[str, Any]) -> dict[str, list[str]]:
    return {k: list(v) for k, v in (hit.get("highlight") or {}).items()}


class PercolatorMatcher:
    kind = "percolator"

    def __init__(self, es: Elasticsearch, store: WatchStore) -> None:
        self.es = es
        self.store = store
        self.watches: dict[str, Watch] = {}

    def prepare(self) -> None:
        if not self.store.ensure():
            raise LayoutError(f"{self.store.index} has no percolator field")

    def set_watches(self, watches: list[Watch]) -> None:
        self.watches = {w.id: w for w in watches}

    def match(self, article: Article) -> list[Match]:
        if not self.watches:
            return []
        resp = self.es.search(
            index=self.store.index,
            query={"percolate": {"field": "query", "document": article.to_document()}},
            highlight=HIGHLIGHT,
            size=MAX_WATCHES,
            source_includes=["watch"],
        )
        out: list[Match] = []
        for hit in resp["hits"]["hits"]:
            # The stored definition, so a watch added after the last reload still has its name.
            w = Watch.model_validate(hit["_source"]["watch"])
            out.append(Match(w, article, _highlights(hit)))
        return out

    def match_many(self, articles: list[Article]) -> MatchResult:
        result = MatchResult()
        for a in articles:
            result.matches += self.match(a)
        return result


class ScratchIndexMatcher:
    kind = "scratch"

    def __init__(self, es: Elasticsearch, alias: str) -> None:
        self.es = es
        self.alias = alias
        self.index = WatchIndices(alias).scratch
        # Scratch ids carry a per-process token: two replicas matching the same article during
        # a rebalance never see or delete each other's copy.
        self.token = uuid.uuid4().hex[:8]
        self.watches: list[Watch] = []
        self.digest: str | None = None

    def prepare(self) -> None:
        """Create the scratch index from the live mapping, again whenever that changed."""
        live = live_mapping(self.es, self.alias)
        try:
            meta = self.es.indices.get_mapping(index=self.index).body[self.index]["mappings"].get(
                "_meta", {}
            )
        except NotFoundError:
            meta = None
        if meta is not None and meta.get("source_digest") == live.digest:
            self.digest = live.digest
            return
        if meta is not None:
            log.info("article mapping changed: recreating %s", self.index)
            self.es.indices.delete(index=self.index, ignore_unavailable=True)
        mappings = article_properties(live) | {
            "dynamic": live.mappings.get("dynamic", "strict"),
            "_meta": {"scratch_of": self.alias, "source_digest": live.digest},
        }
        settings: dict[str, Any] = {"number_of_shards": 1, "number_of_replicas": 0}
        if live.analysis:
            settings["analysis"] = live.analysis
        try:
            self.es.indices.create(index=self.index, mappings=mappings, settings=settings)
        except ApiError as exc:
            if exc.error != "resource_already_exists_exception":
                raise
        self.digest = live.digest

    def set_watches(self, watches: list[Watch]) -> None:
        self.watches = list(watches)

    def match(self, article: Article) -> list[Match]:
        return self.match_many([article]).matches

    def match_many(self, articles: list[Article]) -> MatchResult:
        result = MatchResult()
        if not articles or not self.watches:
            return result
        by_scratch = {f"{a.id}.{self.token}": a for a in articles}
        ops: list[dict[str, Any]] = []
        for sid, a in by_scratch.items():
            ops += [{"index": {"_index": self.index, "_id": sid}}, a.to_document()]
        # refresh=true: the searches below must see these documents on a real cluster too.
        resp = self.es.bulk(operations=ops, refresh=True)
        for item in resp["items"]:
            res = item["index"]
            if res.get("status", 500) >= 300:
                err = res.get("error") or {}
                if res.get("status") in (429,) or res.get("status", 500) >= 500:
                    raise RuntimeError(f"scratch index refused {res['_id']}: {err}")
                a = by_scratch.pop(res["_id"])
                result.refused[a.id] = f"{err.get('type', 'error')}: {err.get('reason', '')}"
        try:
            if by_scratch:
                result.matches = self._search(by_scratch)
        finally:
            deletes = [{"delete": {"_index": self.index, "_id": sid}} for sid in by_scratch]
            if deletes:
                self.es.bulk(operations=deletes)
        return result

    def _search(self, by_scratch: dict[str, Article]) -> list[Match]:
        ids = list(by_scratch)
        searches: list[dict[str, Any]] = []
        for w in self.watches:
            searches.append({"index": self.index})
            searches.append(
                {
                    "query": {"bool": {"must": [compile_query(w)],
                                       "filter": [{"ids": {"values": ids}}]}},
                    "highlight": HIGHLIGHT,
                    "size": len(ids),
                    "_source": False,
                }
            )
        resp = self.es.msearch(searches=searches)
        out: list[Match] = []
        for w, r in zip(self.watches, resp["responses"], strict=True):
            if "error" in r:
                # One broken watch (e.g. a pathological wildcard) must not stop the others.
                log.error("watch %r (%s) query failed: %s", w.name, w.id, r["error"])
                continue
            for hit in r["hits"]["hits"]:
                out.append(Match(w, by_scratch[hit["_id"]], _highlights(hit)))
        return out


def percolator_works(es: Elasticsearch, store: WatchStore) -> bool:
    """Ask the cluster: a percolate search on the watches index either runs or is refused."""
    if not store.ensure():
        return False
    try:
        es.search(
            index=store.index,
            query={"percolate": {"field": "query", "document": {"title": "兰州"}}},
            size=0,
        )
        return True
    except ApiError as exc:
        log.info("percolate refused by the cluster (%s): matching in the service", exc)
        return False


def make_matcher(es: Elasticsearch, alias: str, mode: str) -> Matcher:
    store = WatchStore(es, alias)
    if mode == "percolator" or (mode == "auto" and percolator_works(es, store)):
        return PercolatorMatcher(es, store)
    return ScratchIndexMatcher(es, alias)


__all__ = ["LayoutError", "Match", "MatchResult", "Matcher", "make_matcher"]
