"""Everything one crawler process shares: settings, sites, seen-store, Kafka clients."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from lznews_common.deadletter import DeadLetterSink
from lznews_common.settings import Settings
from lznews_crawler.publisher import Publisher
from lznews_crawler.seenstore import SeenStore
from lznews_crawler.sites import Site, SiteList

Mode = Literal["continuous", "once", "backfill"]


@dataclass
class Runtime:
    settings: Settings
    sites: SiteList
    owned: list[Site]
    store: SeenStore
    publisher: Publisher
    dead_letters: DeadLetterSink
    mode: Mode = "continuous"
    since: date | None = None
    max_pages: int | None = None  # backfill: listing pages per site
    crawl_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
