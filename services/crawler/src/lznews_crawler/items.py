"""What the spider hands the pipeline: a fetched article page, or a permanent failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class PageItem:
    site: str
    url: str  # as found on the listing
    final_url: str  # after redirects
    key: str  # canonical URL of the final page: the Kafka key
    aliases: tuple[str, ...]  # every canonical spelling to mark seen once Kafka has it
    status: int
    body: bytes
    headers: dict[str, str | None]
    fetched_at: datetime


@dataclass
class DeadLetterItem:
    site: str
    key: str  # canonical URL
    url: str
    error_type: str  # a metric label: http_404, too_large, offsite_redirect, ...
    error: str
    body: bytes | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)
