"""Cluster layout of the watch feature: the live article mapping, the watches index (with a
percolator field when the cluster has one), and the sent-alerts ledger.

The article mapping is read from the live alias (GET <write index>/_mapping), never imported
from the indexer: watches are matched against exactly what the cluster indexes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from elasticsearch import ApiError, BadRequestError, Elasticsearch, NotFoundError

from lznews_watcher.names import WatchIndices

log = logging.getLogger(__name__)


class LayoutError(RuntimeError):
    """The cluster is not ready for watches (e.g. the article alias does not exist yet)."""


@dataclass(frozen=True)
class LiveMapping:
    index: str
    mappings: dict[str, Any]
    analysis: dict[str, Any]

    @property
    def digest(self) -> str:
        blob = json.dumps([self.mappings, self.analysis], sort_keys=True).encode()
        return hashlib.sha1(blob).hexdigest()[:16]


def live_mapping(es: Elasticsearch, alias: str) -> LiveMapping:
    """Mapping and analysis settings of the alias' write index (its newest index otherwise)."""
    try:
        aliases = es.indices.get_alias(name=alias).body
    except NotFoundError as exc:
        raise LayoutError(
            f"article alias {alias!r} does not exist yet: start the indexer "
            "(or run `lznews-indexer --bootstrap-only`) first"
        ) from exc
    writers = [i for i, a in aliases.items() if a["aliases"].get(alias, {}).get("is_write_index")]
    index = (writers or sorted(aliases))[-1]
    mappings = es.indices.get_mapping(index=index).body[index]["mappings"]
    idx_settings = es.indices.get_settings(index=index).body[index]["settings"]
    analysis = idx_settings.get("index", {}).get("analysis", {})
    return LiveMapping(index, mappings, analysis)


def article_properties(live: LiveMapping) -> dict[str, Any]:
    """The article fields a percolator or scratch index needs (the live index's own _meta
    is not carried over: these indices are not article indices)."""
    out = {k: v for k, v in live.mappings.items() if k in ("properties", "dynamic_templates")}
    out.setdefault("properties", {})
    return out


def watches_mappings(live: LiveMapping, percolator: bool) -> dict[str, Any]:
    m = article_properties(live)
    m["dynamic"] = "strict"
    m["properties"] = dict(m["properties"]) | {
        # The definition, kept whole in _source; nothing searches inside it.
        "watch": {"type": "object", "enabled": False},
        "query": {"type": "percolator"} if percolator else {"type": "object", "enabled": False},
    }
    m["_meta"] = {"managed_by": "lznews-watcher", "percolator": percolator}
    return m


LEDGER_MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "watch_id": {"type": "keyword"},
        "watch": {"type": "keyword"},
        "article_id": {"type": "keyword"},
        "content_key": {"type": "keyword"},
        "state": {"type": "keyword"},
        "claimed_by": {"type": "keyword"},
        "claimed_at": {"type": "date"},
        "confirmed_at": {"type": "date"},
    },
}


def _settings(analysis: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"number_of_shards": 1}
    if analysis:
        out["analysis"] = analysis
    return out


def _create(es: Elasticsearch, index: str, mappings: dict[str, Any], settings: dict[str, Any]
            ) -> bool:
    """Create an index; False when it already exists (another process won the race)."""
    try:
        es.indices.create(index=index, mappings=mappings, settings=settings)
        return True
    except BadRequestError as exc:
        if exc.error == "resource_already_exists_exception":
            return False
        raise


def ensure_watches_index(es: Elasticsearch, alias: str) -> bool:
    """Create the watches index (or add new article fields to it); True if it has a
    percolator field. Creation tries a percolator mapping first and falls back without."""
    names = WatchIndices(alias)
    live = live_mapping(es, alias)
    if not es.indices.exists(index=names.watches):
        try:
            _create(es, names.watches, watches_mappings(live, True), _settings(live.analysis))
        except BadRequestError as exc:
            log.warning("no percolator field type on this cluster (%s): storing watches only",
                        exc.error)
            _create(es, names.watches, watches_mappings(live, False), _settings(live.analysis))
    current = es.indices.get_mapping(index=names.watches).body[names.watches]["mappings"]
    percolator = current.get("properties", {}).get("query", {}).get("type") == "percolator"
    # New article fields (a template change) must be known before a query can use them.
    new_fields = {
        k: v for k, v in article_properties(live)["properties"].items()
        if k not in current.get("properties", {})
    }
    if new_fields:
        try:
            es.indices.put_mapping(index=names.watches, properties=new_fields)
        except ApiError as exc:
            log.warning("could not add article fields %s to %s: %s",
                        sorted(new_fields), names.watches, exc)
    return percolator


def ensure_ledger(es: Elasticsearch, alias: str) -> None:
    index = WatchIndices(alias).ledger
    if not es.indices.exists(index=index):
        _create(es, index, LEDGER_MAPPINGS, _settings())
