"""A watch (saved search) and the query it compiles to.

The text part is the query `lznews-search` runs (every word in the title or the body); the
filters are exact entity names, sites and a document-number pattern (兰政办发 = a prefix,
`*`/`?` = a wildcard). The same compiled query feeds the percolator and the scratch matcher,
so both find the same articles.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lznews_common.text_safety import find_unsafe

ENTITY_KINDS = ("organizations", "places", "people", "policy_documents")

# Title and body snippets of a match; keyword fields come back whole when they matched.
HIGHLIGHT = {
    "pre_tags": ["<em>"],
    "post_tags": ["</em>"],
    "fields": {
        "title": {"number_of_fragments": 0},
        "body": {"fragment_size": 80, "number_of_fragments": 3},
    },
}


# A watch name is also its digest's directory name (digest.py), and file names hold at most 255
# bytes: a name that fits is never cut (85 Chinese characters; the model's 200-character limit
# allows 600 bytes).
MAX_NAME_BYTES = 255


def check_watch_name(name: str) -> str:
    """The rules for a new watch's name (stored watches are not re-checked, so an older one
    still loads): not blank, no control or invalid characters, at most MAX_NAME_BYTES."""
    if not name.strip():
        raise ValueError("watch name is empty")
    bad = find_unsafe(name)
    if bad is not None:
        raise ValueError(f"watch name contains a control or invalid character ({bad!r})")
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise ValueError(f"watch name is {size} bytes in UTF-8; at most {MAX_NAME_BYTES} "
                         f"(about {MAX_NAME_BYTES // 3} Chinese characters)")
    return name


def new_watch_id() -> str:
    # Not derived from the name: a watch removed and added again is a new watch whose alerts
    # are not suppressed by the old one's ledger entries.
    return f"w{uuid.uuid4().hex[:15]}"


class Watch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=new_watch_id, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    name: str = Field(min_length=1, max_length=200)
    text: str = ""
    entities: dict[str, list[str]] = Field(default_factory=dict)
    sites: list[str] = Field(default_factory=list)
    doc_number: str | None = None
    on_change: bool = False
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("entities")
    @classmethod
    def _kinds(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = set(v) - set(ENTITY_KINDS)
        if unknown:
            raise ValueError(f"unknown entity kind(s) {sorted(unknown)}; use {ENTITY_KINDS}")
        # 《》 are part of how people write a document title, not of the tagged entity.
        return {k: [x.strip().strip("《》") for x in vals if x.strip()] for k, vals in v.items()}

    @model_validator(mode="after")
    def _something_to_match(self) -> Watch:
        if not (self.text.strip() or any(self.entities.values()) or self.sites or self.doc_number):
            raise ValueError("a watch needs query text or at least one filter")
        return self

    def describe(self) -> str:
        parts = [f"text={self.text!r}"] if self.text.strip() else []
        parts += [f"{k}={v}" for k, v in self.entities.items() if v]
        if self.sites:
            parts.append(f"sites={self.sites}")
        if self.doc_number:
            parts.append(f"doc_number={self.doc_number}")
        if self.on_change:
            parts.append("on_change")
        return " ".join(parts)


def doc_number_query(pattern: str) -> dict[str, Any]:
    if any(c in pattern for c in "*?"):
        return {"wildcard": {"doc_number": {"value": pattern}}}
    return {"prefix": {"doc_number": {"value": pattern}}}


def compile_query(w: Watch) -> dict[str, Any]:
    """The Elasticsearch query of a watch, over the article mapping."""
    must: list[dict[str, Any]] = []
    filters: list[dict[str, Any]] = []
    if w.text.strip():
        # AND, as in lznews-search: with bigram analysis OR would match nearly everything.
        must.append(
            {
                "multi_match": {
                    "query": w.text,
                    "fields": ["title^3", "body"],
                    "type": "cross_fields",
                    "operator": "and",
                }
            }
        )
    for kind, names in w.entities.items():
        # Every listed entity must be tagged (a watch narrows, like lznews-search --entity).
        filters += [{"term": {f"entities.{kind}": name}} for name in names]
    if w.sites:
        filters.append({"terms": {"site": list(w.sites)}})
    if w.doc_number:
        filters.append(doc_number_query(w.doc_number))
    return {"bool": {"must": must or [{"match_all": {}}], "filter": filters}}
