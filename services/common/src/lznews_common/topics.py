"""Topic definitions (DESIGN.md) and an idempotent ensure-topics step."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from lznews_common import kafka
from lznews_common.settings import Settings

log = logging.getLogger(__name__)

DAY_MS = 24 * 3600 * 1000

RAW_PAGES = "raw-pages"
ARTICLES = "articles"
DEAD_LETTERS = "dead-letters"
ALERTS = "alerts"


@dataclass(frozen=True)
class TopicSpec:
    base: str
    configs: dict[str, str] = field(default_factory=dict)
    partitions: int | None = None  # None: the LZNEWS_TOPIC_PARTITIONS default


TOPICS: tuple[TopicSpec, ...] = (
    # Raw pages are replayable input for the normaliser; a week covers a long outage.
    TopicSpec(RAW_PAGES, {"retention.ms": str(7 * DAY_MS), "max.message.bytes": str(16 << 20)}),
    # Articles keyed by id: compaction keeps the newest version of each for replays/reindexing.
    TopicSpec(
        ARTICLES,
        {
            "cleanup.policy": "compact",
            "min.compaction.lag.ms": str(DAY_MS),
            "max.message.bytes": str(16 << 20),
        },
    ),
    TopicSpec(DEAD_LETTERS, {"retention.ms": str(30 * DAY_MS), "max.message.bytes": str(32 << 20)}),
    # Watch alerts (lznews.alert/1, key = watch id): a month lets a sink catch up or be replayed.
    TopicSpec(ALERTS, {"retention.ms": str(30 * DAY_MS)}),
)


def ensure_topics(
    admin: KafkaAdminClient, settings: Settings, specs: tuple[TopicSpec, ...] = TOPICS
) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    existing = set(admin.list_topics())
    created: list[str] = []
    for spec in specs:
        name = settings.topic(spec.base)
        if name in existing:
            continue
        topic = NewTopic(
            name,
            spec.partitions or settings.topic_partitions,
            settings.topic_replication,
            topic_configs=dict(spec.configs),
        )
        try:
            admin.create_topics([topic])
            created.append(name)
        except TopicAlreadyExistsError:  # another replica won the race
            pass
    if created:
        log.info("created topics %s", created)
    return created


def prepare_topics(settings: Settings, **client: object) -> list[str]:
    """ensure_topics with an admin client of its own (`client`: its settings), opened and
    closed here."""
    admin = kafka.admin(settings, **client)
    try:
        return ensure_topics(admin, settings)
    finally:
        admin.close()
