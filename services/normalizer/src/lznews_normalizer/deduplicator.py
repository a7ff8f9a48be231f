"""Which normalised articles are emitted: new and changed ones, not duplicates.

All state lives in one mapping the worker gives it (a Faust GlobalTable in production, a dict
in tests), under three key spaces: `u:<canonical URL>` -> content hash, `c:<content hash>` ->
article id, and the simhash band buckets of SimhashIndex. Every worker must see all of it:
copies of a story arrive under other URLs, on other partitions.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

from lznews_common.models import Article
from lznews_normalizer.dedup import SimhashIndex

Kind = Literal["new", "changed", "unchanged", "exact", "near"]


@dataclass(frozen=True)
class _Keys:
    """What deduplication reads of an article: the worker's Article, or its JSON-shaped dict."""

    id: str
    url: str  # canonical
    digest: str
    simhash: int

    @classmethod
    def of(cls, article: Article | Mapping[str, Any]) -> _Keys:
        if isinstance(article, Article):
            return cls(article.id, article.canonical_url, article.content_hash,
                       int(article.simhash, 16))
        return cls(article["id"], article["canonical_url"], article["content_hash"],
                   int(article["simhash"], 16))


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    duplicate_of: str | None = None
    distance: int | None = None

    @property
    def emit(self) -> bool:
        return self.kind in ("new", "changed")


class Deduplicator:
    def __init__(self, store: MutableMapping[str, Any], max_distance: int = 6) -> None:
        self.store = store
        self.index = SimhashIndex(store, max_distance=max_distance)

    def check(self, article: Article | Mapping[str, Any]) -> Verdict:
        keys = _Keys.of(article)
        previous = self.store.get(f"u:{keys.url}")
        if previous == keys.digest:
            return Verdict("unchanged", keys.id)
        if previous is not None:
            return Verdict("changed")  # same URL, new content: an update, always emitted
        first = self.store.get(f"c:{keys.digest}")
        if first is not None and first != keys.id:
            return Verdict("exact", first, 0)
        for other, distance in self.index.query(keys.simhash):
            if other != keys.id:
                return Verdict("near", other, distance)
        return Verdict("new")

    def record(self, article: Article | Mapping[str, Any], verdict: Verdict) -> None:
        """Remember the article; called only after its output was acknowledged."""
        keys = _Keys.of(article)
        self.store[f"u:{keys.url}"] = keys.digest
        if verdict.emit:
            self.store[f"c:{keys.digest}"] = keys.id
            self.index.add(keys.id, keys.simhash)
