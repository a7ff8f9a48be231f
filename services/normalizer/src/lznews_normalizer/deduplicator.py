"""Which normalised articles are emitted: new and changed ones, not duplicates.

All state lives in one mapping the worker gives it (a Faust GlobalTable in production, a dict
in tests), under three key spaces: `u:<canonical URL>` -> content hash, `c:<content hash>` ->
article id, and the simhash band buckets of SimhashIndex. Every worker must see all of it:
copies of a story arrive under other URLs, on other partitions.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

from lznews_normalizer.dedup import SimhashIndex

Kind = Literal["new", "changed", "unchanged", "exact", "near"]


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

    def check(self, article: dict[str, Any]) -> Verdict:
        url, digest, own = article["canonical_url"], article["content_hash"], article["id"]
        previous = self.store.get(f"u:{url}")
        if previous == digest:
            return Verdict("unchanged", own)
        if previous is not None:
            return Verdict("changed")  # same URL, new content: an update, always emitted
        first = self.store.get(f"c:{digest}")
        if first is not None and first != own:
            return Verdict("exact", first, 0)
        for other, distance in self.index.query(int(article["simhash"], 16)):
            if other != own:
                return Verdict("near", other, distance)
        return Verdict("new")

    def record(self, article: dict[str, Any], verdict: Verdict) -> None:
        """Remember the article; called only after its output was acknowledged."""
        self.store[f"u:{article['canonical_url']}"] = article["content_hash"]
        if verdict.emit:
            self.store[f"c:{article['content_hash']}"] = article["id"]
            self.index.add(article["id"], int(article["simhash"], 16))
