"""lznews.alert/1: one match of one watch, the value on the `alerts` topic (key = watch id)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lznews_common.models import Article, MessageError
from lznews_watcher.watch import Watch

ALERT_SCHEMA = "lznews.alert/1"


def content_key(article: Article) -> str:
    """What "the article changed" means for on_change watches: its title or normalised body.
    Hashed here rather than taken from content_hash, so the rule does not hang on how (or
    whether) upstream hashes."""
    return hashlib.sha1(f"{article.title}\n{article.body}".encode()).hexdigest()[:16]


def ledger_id(watch: Watch, article: Article) -> str:
    if watch.on_change:
        return f"{watch.id}:{article.id}:{content_key(article)}"
    return f"{watch.id}:{article.id}"


class Alert(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: Literal["lznews.alert/1"] = Field(ALERT_SCHEMA, alias="schema")
    alert_id: str  # the ledger id: receivers can deduplicate on it
    watch: str
    watch_id: str
    article_id: str
    title: str
    url: str
    site: str
    published_at: datetime | None = None
    doc_number: str | None = None
    highlights: dict[str, list[str]] = Field(default_factory=dict)
    matched_at: datetime
    content_key: str
    on_change: bool = False

    def to_bytes(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode("utf-8")

    @classmethod
    def parse(cls, data: bytes | str | dict[str, Any]) -> Alert:
        try:
            obj = json.loads(data) if isinstance(data, bytes | str) else data
            if not isinstance(obj, dict) or obj.get("schema") != ALERT_SCHEMA:
                raise MessageError(ALERT_SCHEMA, "not a JSON object with schema lznews.alert/1")
            return cls.model_validate(obj)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MessageError(ALERT_SCHEMA, f"not JSON: {exc}") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "message"
            raise MessageError(ALERT_SCHEMA, f"{where}: {first['msg']}") from exc

    @classmethod
    def build(cls, watch: Watch, article: Article, highlights: dict[str, list[str]],
              matched_at: datetime) -> Alert:
        return cls(
            alert_id=ledger_id(watch, article),
            watch=watch.name,
            watch_id=watch.id,
            article_id=article.id,
            title=article.title,
            url=article.url,
            site=article.site,
            published_at=article.published_at,
            doc_number=article.doc_number,
            highlights=highlights,
            matched_at=matched_at,
            content_key=content_key(article),
            on_change=watch.on_change,
        )

