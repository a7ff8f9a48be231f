"""Building lznews.alert/1 messages (the model is lznews_common.models.Alert) and the ledger ids
that keep them at most once per watch and article."""

from __future__ import annotations

import hashlib
from datetime import datetime

from lznews_common.models import Alert, Article
from lznews_watcher.watch import Watch


def content_key(article: Article) -> str:
    """What "the article changed" means for on_change watches: its title or normalised body.
    Hashed here rather than taken from content_hash, so the rule does not hang on how (or
    whether) upstream hashes."""
    return hashlib.sha1(f"{article.title}\n{article.body}".encode()).hexdigest()[:16]


def ledger_id(watch: Watch, article: Article) -> str:
    if watch.on_change:
        return f"{watch.id}:{article.id}:{content_key(article)}"
    return f"{watch.id}:{article.id}"


def build_alert(watch: Watch, article: Article, highlights: dict[str, list[str]],
                matched_at: datetime) -> Alert:
    return Alert(
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
