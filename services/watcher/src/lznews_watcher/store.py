"""Watches as documents in the watches index: the definition in `watch`, its compiled query in
`query` (a percolator field where the cluster has one)."""

from __future__ import annotations

import logging
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from lznews_watcher.layout import ensure_watches_index
from lznews_watcher.names import WatchIndices
from lznews_watcher.watch import Watch, compile_query

log = logging.getLogger(__name__)

MAX_WATCHES = 10_000  # one page (index.max_result_window); far beyond a newsroom's watch list


class WatchStore:
    def __init__(self, es: Elasticsearch, alias: str) -> None:
        self.es = es
        self.index = WatchIndices(alias).watches
        self.alias = alias
        self.percolator: bool | None = None

    def ensure(self) -> bool:
        self.percolator = ensure_watches_index(self.es, self.alias)
        return self.percolator

    def add(self, w: Watch) -> Watch:
        if self.percolator is None:
            self.ensure()
        if any(x.name == w.name for x in self.list()):
            raise ValueError(f"a watch named {w.name!r} exists already")
        doc: dict[str, Any] = {"watch": w.model_dump(mode="json"), "query": compile_query(w)}
        # refresh: the watcher must see a watch as soon as the command returns ("a watch
        # created before an article arrives fires").
        self.es.index(index=self.index, id=w.id, document=doc, op_type="create", refresh=True)
        return w

    def list(self) -> list[Watch]:
        try:
            hits = self.es.search(
                index=self.index, query={"match_all": {}}, size=MAX_WATCHES,
                source_includes=["watch"],
            )["hits"]["hits"]
        except NotFoundError:
            return []
        watches = [Watch.model_validate(h["_source"]["watch"]) for h in hits]
        return sorted(watches, key=lambda w: (w.created_at, w.id))

    def find(self, key: str) -> Watch | None:
        """A watch by id or by name."""
        return next((w for w in self.list() if key in (w.id, w.name)), None)

    def remove(self, key: str) -> Watch | None:
        w = self.find(key)
        if w is not None:
            self.es.delete(index=self.index, id=w.id, refresh=True)
        return w
