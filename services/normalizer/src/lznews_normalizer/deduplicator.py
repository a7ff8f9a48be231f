"""Which normalised articles are emitted: new and changed ones, not duplicates.

Backed by two mappings the worker gives it (Faust tables in production, dicts in tests):
`by_url` (canonical URL -> content hash, partitioned like raw-pages, by URL) and `fingerprints`
(content hash -> article id, and the simhash band buckets), which every worker must see because
the same story arrives under different URLs on different partitions.
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
    def __init__(self, by_url: MutableMapping[str, Any], fingerprints: MutableMapping[str, Any],
                 max_distance: int = 6) -> None:
        self.by_url = by_url
        self.fingerprints = fingerprints
        self.index = SimhashIndex(fingerprints, max_distance=max_distance)

    def check(self, article: dict[str, Any]) -> Verdict:
        url, digest, own = article["canonical_url"], article["content_hash"], article["id"]
        previous = self.by_url.get(url)
        if previous == digest:
            return Verdict("unchanged", own)
        if previous is not None:
            return Verdict("changed")  # same URL, new content: an update, always emitted
        first = self.fingerprints.get(f"c:{digest}")
        if first is not None and first != own:
            return Verdict("exact", first, 0)
        for other, distance in self.index.query(int(article["simhash"], 16)):
            if other != own:
                return Verdict("near", other, distance)
        return Verdict("new")

    def record(self, article: dict[str, Any], verdict: Verdict) -> None:
        """Remember the article; called only after its output was acknowledged."""
        self.by_url[article["canonical_url"]] = article["content_hash"]
        if verdict.emit:
            self.fingerprints[f"c:{article['content_hash']}"] = article["id"]
            self.index.add(article["id"], int(article["simhash"], 16))
