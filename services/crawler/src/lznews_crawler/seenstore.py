"""The durable seen-store: one SQLite file per site under LZNEWS_CRAWLER_STATE_DIR.

An article URL is `pending` from the moment a listing shows it until Kafka acknowledges its raw
page (`done`) or it fails for good (`dead`, after its dead letter was acknowledged). Pending URLs
are fetched again on every visit of their site, so nothing discovered is lost to a crash or a
broker outage. Listing validators (ETag, Last-Modified) live here too, for conditional GETs.

One file per site, because sites are the unit of sharding: moving a site to another replica
moves one file.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

PENDING, DONE, DEAD = "pending", "done", "dead"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS urls (
    url TEXT PRIMARY KEY,        -- canonical URL
    fetch_url TEXT NOT NULL,     -- the spelling found on the listing
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    first_seen REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS urls_state ON urls(state);
CREATE TABLE IF NOT EXISTS listings (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    visited REAL
);
"""


@dataclass(frozen=True)
class Pending:
    url: str
    fetch_url: str
    attempts: int


class SeenStore:
    def __init__(self, state_dir: str | Path) -> None:
        self.dir = Path(state_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._dbs: dict[str, sqlite3.Connection] = {}
        self.size = 0  # URLs known in every opened site file (the seen-store size gauge)

    def _db(self, site: str) -> sqlite3.Connection:
        db = self._dbs.get(site)
        if db is None:
            db = sqlite3.connect(self.dir / f"{site}.sqlite", isolation_level=None)
            # WAL + NORMAL: a commit survives a process crash; only an OS crash can lose the
            # last few, which costs one extra fetch, never a lost article.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            self._dbs[site] = db
            self.size += db.execute("SELECT count(*) FROM urls").fetchone()[0]
        return db

    def open_sites(self, sites: list[str]) -> None:
        for site in sites:
            self._db(site)

    def state(self, site: str, url: str) -> str | None:
        row = self._db(site).execute("SELECT state FROM urls WHERE url=?", (url,)).fetchone()
        return row[0] if row else None

    def add_pending(self, site: str, url: str, fetch_url: str) -> bool:
        """Record a discovered URL; False if it was already known (in any state)."""
        now = time.time()
        cur = self._db(site).execute(
            "INSERT OR IGNORE INTO urls(url, fetch_url, state, first_seen, updated) "
            "VALUES (?, ?, ?, ?, ?)",
            (url, fetch_url, PENDING, now, now),
        )
        self.size += cur.rowcount
        return cur.rowcount == 1

    def mark_done(self, site: str, *urls: str) -> None:
        self._set(site, DONE, None, urls)

    def mark_dead(self, site: str, url: str, reason: str) -> None:
        self._set(site, DEAD, reason, (url,))

    def _set(self, site: str, state: str, reason: str | None, urls: tuple[str, ...]) -> None:
        now = time.time()
        db = self._db(site)
        with db:
            for url in dict.fromkeys(urls):
                known = db.execute("SELECT 1 FROM urls WHERE url=?", (url,)).fetchone()
                self.size += known is None
                db.execute(
                    "INSERT INTO urls(url, fetch_url, state, reason, first_seen, updated) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET "
                    "state=excluded.state, reason=excluded.reason, updated=excluded.updated",
                    (url, url, state, reason, now, now),
                )

    def record_failure(self, site: str, url: str) -> int:
        """Count one failed visit of a pending URL; returns the attempts so far."""
        db = self._db(site)
        db.execute(
            "UPDATE urls SET attempts = attempts + 1, updated = ? WHERE url = ? AND state = ?",
            (time.time(), url, PENDING),
        )
        row = db.execute("SELECT attempts FROM urls WHERE url=?", (url,)).fetchone()
        return int(row[0]) if row else 1

    def pending(self, site: str) -> list[Pending]:
        rows = self._db(site).execute(
            "SELECT url, fetch_url, attempts FROM urls WHERE state=? ORDER BY first_seen",
            (PENDING,),
        )
        return [Pending(*r) for r in rows]

    def count(self, state: str = DONE) -> int:
        return sum(
            db.execute("SELECT count(*) FROM urls WHERE state=?", (state,)).fetchone()[0]
            for db in self._dbs.values()
        )

    def validators(self, site: str, listing_url: str) -> tuple[str | None, str | None]:
        row = self._db(site).execute(
            "SELECT etag, last_modified FROM listings WHERE url=?", (listing_url,)
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def walked(self, site: str, listing_url: str) -> bool:
        """Whether a walk through this listing page ever completed (validators are saved only
        then, even when the server sends none)."""
        return self._db(site).execute(
            "SELECT 1 FROM listings WHERE url=?", (listing_url,)
        ).fetchone() is not None

    def set_validators(self, site: str, listing_url: str, etag: str | None,
                       last_modified: str | None) -> None:
        self._db(site).execute(
            "INSERT INTO listings(url, etag, last_modified, visited) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(url) DO UPDATE SET etag=excluded.etag, "
            "last_modified=excluded.last_modified, visited=excluded.visited",
            (listing_url, etag, last_modified, time.time()),
        )

    def close(self) -> None:
        for db in self._dbs.values():
            db.close()
        self._dbs.clear()
