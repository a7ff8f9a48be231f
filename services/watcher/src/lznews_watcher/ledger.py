"""The sent-alerts ledger: one document per (watch, article[, content]) alert, created with
op_type=create *before* the alert is published, so that no crash, replay, rebalance or second
replica can ever publish the same alert twice (at most once per watch and article).

A claim is `claimed` until Kafka acknowledged the alert, then `published`. A claim another
process left `claimed` (it crashed between claim and acknowledgement) is never re-sent: that
alert may or may not be on the topic, and re-sending could duplicate it. Such claims are
counted (lznews_watch_suppressed_total{reason="unconfirmed"}) and listed by
`lznews-watch pending`, so a lost alert is visible rather than silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch

from lznews_watcher.names import WatchIndices

CLAIMED, PUBLISHED = "claimed", "published"


@dataclass
class ClaimResult:
    mine: list[str]  # ids this process may publish (new claims, or its own earlier ones)
    published: list[str]  # already alerted and confirmed
    unconfirmed: list[str]  # claimed by another (crashed or concurrent) process


class Ledger:
    def __init__(self, es: Elasticsearch, alias: str, token: str) -> None:
        self.es = es
        self.index = WatchIndices(alias).ledger
        self.token = token  # this process: its own claims survive a retried batch

    def claim(self, entries: dict[str, dict[str, Any]]) -> ClaimResult:
        """Create a claim per ledger id; raises on cluster errors (nothing is published then,
        and a retry sees its own claims as mine)."""
        result = ClaimResult([], [], [])
        if not entries:
            return result
        now = datetime.now(UTC).isoformat()
        ops: list[dict[str, Any]] = []
        for lid, fields in entries.items():
            ops.append({"create": {"_index": self.index, "_id": lid}})
            ops.append(fields | {"state": CLAIMED, "claimed_by": self.token, "claimed_at": now})
        resp = self.es.bulk(operations=ops)
        conflicts: list[str] = []
        for item in resp["items"]:
            res = item["create"]
            if res.get("status") in (200, 201):
                result.mine.append(res["_id"])
            elif res.get("status") == 409:
                conflicts.append(res["_id"])
            else:
                raise RuntimeError(f"ledger claim {res['_id']} failed: {res.get('error')}")
        if conflicts:
            docs = self.es.mget(index=self.index, ids=conflicts)["docs"]
            for d in docs:
                src = d.get("_source") or {}
                if src.get("state") == PUBLISHED:
                    result.published.append(d["_id"])
                elif src.get("claimed_by") == self.token:
                    result.mine.append(d["_id"])
                else:
                    result.unconfirmed.append(d["_id"])
        return result

    def confirm(self, entries: dict[str, dict[str, Any]]) -> None:
        """Mark claims published (after Kafka's acknowledgement)."""
        if not entries:
            return
        now = datetime.now(UTC).isoformat()
        ops: list[dict[str, Any]] = []
        for lid, fields in entries.items():
            ops.append({"index": {"_index": self.index, "_id": lid}})
            ops.append(fields | {"state": PUBLISHED, "claimed_by": self.token,
                                 "confirmed_at": now})
        resp = self.es.bulk(operations=ops)
        if resp.get("errors"):
            bad = [i["index"] for i in resp["items"] if i["index"].get("status", 500) >= 300]
            raise RuntimeError(f"ledger confirm failed: {bad[:3]}")

    def unconfirmed(self, size: int = 100) -> list[dict[str, Any]]:
        resp = self.es.search(index=self.index, query={"term": {"state": CLAIMED}}, size=size,
                              sort=[{"claimed_at": "asc"}])
        return [h["_source"] | {"id": h["_id"]} for h in resp["hits"]["hits"]]
