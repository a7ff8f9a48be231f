"""Bulk writes with per-item outcomes, retried with backoff until every item that can succeed has.

Outcome of each item, modelled on what a Kafka-to-Elasticsearch sink must decide:
- 2xx: indexed. 409 version_conflict: the index already holds this or a newer fetch (replays,
  out-of-order copies); counted, not an error.
- 429, 5xx, and 404 on the write alias (the cluster lost its layout): retried, never dropped.
- any other 4xx (mapping errors): the item fails for good and is returned for dead-lettering.
- The whole request failing (cluster unreachable, 429/5xx, auth): wait and retry the same items.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch

from lznews_common.metrics import (
    INDEXER_BULK_LATENCY,
    INDEXER_BULK_SIZE,
    INDEXER_ITEM_FAILURES,
    INDEXER_RETRIES,
)
from lznews_common.models import Article
from lznews_common.retry import retrying

log = logging.getLogger(__name__)


class Outcome(Enum):
    CREATED = "created"
    UPDATED = "updated"
    CONFLICT = "version_conflict"
    FAILED = "failed"


@dataclass
class Doc:
    """One article as a bulk action; `ref` carries the Kafka record for dead letters."""

    id: str
    version: int
    source: dict[str, Any]
    fetched_at: datetime
    ref: Any = None

    @classmethod
    def from_article(cls, article: Article, ref: Any = None) -> Doc:
        return cls(
            id=article.id,
            version=version_of(article.fetched_at, article.normalized_at),
            source=article.to_document(),
            fetched_at=article.fetched_at,
            ref=ref,
        )


@dataclass
class ItemResult:
    doc: Doc
    outcome: Outcome
    status: int
    error_type: str | None = None
    reason: str | None = None


@dataclass
class BulkStats:
    requests: int = 0
    retries: int = 0
    results: list[ItemResult] = field(default_factory=list)


RENORMALISE_SLOTS = 1_000_000  # seconds after the fetch a re-normalisation can still win


def version_of(fetched_at: datetime, normalized_at: datetime | None = None) -> int:
    """External version, ordered by fetched_at (epoch ms) first, so a newer fetch always wins
    and an older one never does; within one fetch, a later normalisation of the same raw page
    (the normaliser re-run) wins too. The same message again has the same version: a 409, so a
    replay changes nothing. Fits a long until the year 2262."""
    slot = 0
    if normalized_at is not None:
        seconds = int((normalized_at - fetched_at).total_seconds())
        slot = min(max(seconds, 0), RENORMALISE_SLOTS - 1)
    return int(fetched_at.timestamp() * 1000) * RENORMALISE_SLOTS + slot


class RetryableBulkError(Exception):
    """The cluster could not take the bulk now (unreachable, overloaded, lost its alias)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def _item_error(item: dict[str, Any]) -> tuple[str, str]:
    err = item.get("error") or {}
    if isinstance(err, str):
        return "error", err
    reason = err.get("reason") or ""
    cause = err.get("caused_by") or {}
    if cause.get("reason") and cause.get("reason") not in reason:
        reason = f"{reason}: {cause['reason']}"
    return err.get("type") or "error", reason


def _retryable_item(status: int, error_type: str) -> str | None:
    """The retry reason of an item status, None when it fails (or succeeds) for good."""
    if status == 429:
        return "429"
    if status >= 500:
        return "5xx"
    if status == 404 and error_type == "index_not_found_exception":
        return "alias_missing"
    return None


class BulkWriter:
    """Writes documents through the alias; `write` returns only when every item has a final
    outcome. `wait(seconds)` is how the caller spends a backoff (the worker keeps its consumer
    group membership alive there with consumption paused; Stopping raised there abandons the
    write); `before_retry()` runs before each retry (the worker re-bootstraps there, in case the
    cluster lost its layout); `on_retry(error)` hears each failure (health shows it)."""

    def __init__(
        self,
        es: Elasticsearch,
        alias: str,
        *,
        retry_initial_s: float = 0.5,
        retry_max_s: float = 60.0,
        wait: Callable[[float], None] = time.sleep,
        before_retry: Callable[[], None] | None = None,
        on_retry: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.es = es
        self.alias = alias
        self.before_retry = before_retry
        self.retrying = retrying(lambda exc: isinstance(exc, RetryableBulkError),
                                 initial_s=retry_initial_s, max_s=retry_max_s, sleep=wait,
                                 on_retry=on_retry, log=log, what="bulk")

    def operations(self, docs: list[Doc]) -> list[dict[str, Any]]:
        ops: list[dict[str, Any]] = []
        for d in docs:
            # external (not external_gte): an equal version is a 409, so a replay rewrites
            # nothing (not even _seq_no) and an older copy can never win.
            ops.append(
                {
                    "index": {
                        "_index": self.alias,
                        "_id": d.id,
                        "version": d.version,
                        "version_type": "external",
                    }
                }
            )
            ops.append(d.source)
        return ops

    def _send(self, docs: list[Doc]) -> list[dict[str, Any]]:
        started = time.monotonic()
        try:
            # require_alias: if the alias is gone, fail the items (retried after a
            # re-bootstrap) instead of auto-creating a concrete index under the alias name.
            resp = self.es.bulk(operations=self.operations(docs), require_alias=True)
        except ApiError as exc:
            status = exc.meta.status
            if status == 429 or status >= 500:
                raise RetryableBulkError(str(status) if status == 429 else "5xx", str(exc)) from exc
            if status in (401, 403):
                # Credentials or privileges: an operator fixes them; the items are fine.
                raise RetryableBulkError("auth", str(exc)) from exc
            raise
        except TransportError as exc:
            raise RetryableBulkError("unreachable", str(exc)) from exc
        INDEXER_BULK_LATENCY.observe(time.monotonic() - started)
        INDEXER_BULK_SIZE.observe(len(docs))
        return [next(iter(item.values())) for item in resp["items"]]

    def write(self, docs: list[Doc]) -> BulkStats:
        stats = BulkStats()
        queue: list[list[Doc]] = [docs] if docs else []
        while queue:
            chunk = queue.pop(0)
            try:
                self._settle(chunk, stats)
            except _Refused as refused:
                # The request as a whole was refused (400, 413): split to find the bad items.
                pending, exc = refused.pending, refused.error
                if len(pending) > 1:
                    half = len(pending) // 2
                    queue[:0] = [pending[:half], pending[half:]]
                    continue
                INDEXER_ITEM_FAILURES.labels(f"request_{exc.meta.status}").inc()
                stats.results.append(ItemResult(pending[0], Outcome.FAILED, exc.meta.status,
                                                "request_rejected", str(exc)))
        return stats

    def _settle(self, chunk: list[Doc], stats: BulkStats) -> None:
        """Send `chunk` until every item has a final outcome in `stats`; the items a retryable
        failure left are sent again after a backoff."""
        pending = chunk
        for attempt in self.retrying:
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    stats.retries += 1
                    self._prepare_retry()
                stats.requests += 1
                try:
                    items = self._send(pending)
                except RetryableBulkError as exc:
                    INDEXER_RETRIES.labels(exc.reason).inc()
                    raise
                except ApiError as exc:
                    raise _Refused(pending, exc) from exc
                left, why = self._sort(pending, items, stats)
                if left:
                    pending = left
                    raise RetryableBulkError("items", why)

    def _prepare_retry(self) -> None:
        if self.before_retry is None:
            return
        try:
            self.before_retry()
        except (TransportError, ApiError) as exc:
            INDEXER_RETRIES.labels("unreachable").inc()
            raise RetryableBulkError("unreachable", str(exc)) from exc

    def _sort(self, chunk: list[Doc], items: list[dict[str, Any]],
              stats: BulkStats) -> tuple[list[Doc], str]:
        """Record each item's final outcome; returns the items to retry and why."""
        retry: list[Doc] = []
        retry_reason = ""
        for doc, item in zip(chunk, items, strict=True):
            status = int(item.get("status", 500))
            if 200 <= status < 300:
                updated = item.get("result") == "updated"
                outcome = Outcome.UPDATED if updated else Outcome.CREATED
                stats.results.append(ItemResult(doc, outcome, status))
                continue
            error_type, reason = _item_error(item)
            if status == 409 and error_type == "version_conflict_engine_exception":
                stats.results.append(ItemResult(doc, Outcome.CONFLICT, status, error_type))
                continue
            why = _retryable_item(status, error_type)
            if why is not None:
                retry.append(doc)
                retry_reason = f"{why}: {reason}"
                INDEXER_RETRIES.labels(why).inc()
                continue
            INDEXER_ITEM_FAILURES.labels(error_type).inc()
            stats.results.append(ItemResult(doc, Outcome.FAILED, status, error_type, reason))
        return retry, retry_reason


class _Refused(Exception):
    """The bulk request as a whole was refused for good: `pending` is split to find why."""

    def __init__(self, pending: list[Doc], error: ApiError) -> None:
        super().__init__(str(error))
        self.pending, self.error = pending, error
