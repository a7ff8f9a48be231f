"""Every Prometheus metric of every service, named once.

Dashboards and alert rules (deploy/) are checked against the names defined here.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
FRESHNESS_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)

# --- every service ----------------------------------------------------------------------------
DEAD_LETTERS = Counter(
    "lznews_dead_letters_total", "Messages sent to dead-letters", ["service", "stage", "error_type"]
)
DEAD_LETTER_PUBLISH_FAILURES = Counter(
    "lznews_dead_letter_publish_failures_total",
    "Dead letters that could not be written",
    ["service"],
)

# --- crawler ----------------------------------------------------------------------------------
CRAWLER_PAGES = Counter(
    "lznews_crawler_pages_fetched_total", "Pages fetched", ["site", "kind", "status"]
)
CRAWLER_BYTES = Counter("lznews_crawler_bytes_fetched_total", "Response bytes fetched", ["site"])
CRAWLER_PUBLISHED = Counter(
    "lznews_crawler_published_total", "Raw pages acknowledged by Kafka", ["site"]
)
CRAWLER_PUBLISH_FAILURES = Counter(
    "lznews_crawler_publish_failures_total", "Raw pages Kafka did not acknowledge", ["site"]
)
CRAWLER_PUBLISH_LATENCY = Histogram(
    "lznews_crawler_publish_latency_seconds",
    "Time from send to Kafka acknowledgement",
    buckets=LATENCY_BUCKETS,
)
CRAWLER_SEEN = Gauge("lznews_crawler_seen_urls", "Article URLs in the seen-store")
CRAWLER_LAST_LISTING = Gauge(
    "lznews_crawler_last_listing_success_timestamp_seconds",
    "Time of the last successful listing visit",
    ["site"],
)
CRAWLER_FILTERED = Counter(
    "lznews_crawler_requests_refused_total", "Requests refused by safety rules", ["reason"]
)

# --- normaliser -------------------------------------------------------------------------------
NORMALIZER_IN = Counter("lznews_normalizer_pages_in_total", "Raw pages consumed", ["site"])
NORMALIZER_OUT = Counter("lznews_normalizer_articles_out_total", "Articles emitted", ["site"])
NORMALIZER_DUPLICATES = Counter(
    "lznews_normalizer_duplicates_total", "Duplicates not re-emitted", ["kind"]
)
NORMALIZER_STALLS = Counter(
    "lznews_normalizer_stalls_total",
    "Input waiting with nothing processed: rewound to the committed offsets, or exited",
    ["action"],
)
NORMALIZER_INPUT_GAPS = Counter(
    "lznews_normalizer_input_gaps_total",
    "Jumps in the input offsets (records fetched but never delivered): sought back and re-read",
)
NORMALIZER_STAGE_LATENCY = Histogram(
    "lznews_normalizer_stage_seconds", "Time spent per stage", ["stage"], buckets=LATENCY_BUCKETS
)
NORMALIZER_ENTITIES = Histogram(
    "lznews_normalizer_entities_per_article",
    "Entities per article",
    ["kind"],
    buckets=(0, 1, 2, 5, 10, 20, 50, 100),
)
NORMALIZER_CLEANING = Counter(
    "lznews_normalizer_cleaning_total", "What cleaning removed or repaired", ["counter"]
)

# --- indexer ----------------------------------------------------------------------------------
INDEXER_DOCS = Counter("lznews_indexer_documents_total", "Documents by bulk outcome", ["result"])
INDEXER_BULK_LATENCY = Histogram(
    "lznews_indexer_bulk_latency_seconds", "Bulk request latency", buckets=LATENCY_BUCKETS
)
INDEXER_BULK_SIZE = Histogram(
    "lznews_indexer_bulk_documents",
    "Documents per bulk",
    buckets=(1, 5, 10, 50, 100, 250, 500, 1000, 5000),
)
INDEXER_RETRIES = Counter("lznews_indexer_retries_total", "Bulk retries", ["reason"])
INDEXER_ITEM_FAILURES = Counter(
    "lznews_indexer_item_failures_total", "Bulk item failures", ["reason"]
)
INDEXER_LAG = Gauge(
    "lznews_indexer_consumer_lag", "Broker end offset minus the group's committed offset",
    ["topic", "partition"],
)
INDEXER_LAST_BULK = Gauge(
    "lznews_indexer_last_bulk_success_timestamp_seconds", "Time of the last successful bulk"
)
FRESHNESS = Histogram(
    "lznews_fetch_to_searchable_seconds",
    "Time from fetch to the bulk that made an article searchable",
    buckets=FRESHNESS_BUCKETS,
)

# --- watch (saved searches, alerts) -------------------------------------------------------------
WATCH_MATCHES = Counter(
    "lznews_watch_matches_total", "Alerts published to the alerts topic, per watch", ["watch"]
)
WATCH_SUPPRESSED = Counter(
    "lznews_watch_suppressed_total",
    "Matches not alerted (already_alerted, unconfirmed claim, superseded by a newer fetch)",
    ["reason"],
)
WATCH_ARTICLES = Counter(
    "lznews_watch_articles_total", "Articles the watcher read, by outcome", ["result"]
)
WATCH_MATCH_LATENCY = Histogram(
    "lznews_watch_match_latency_seconds",
    "Time to match one batch of articles against every watch",
    buckets=LATENCY_BUCKETS,
)
WATCH_WATCHES = Gauge("lznews_watch_watches", "Watches the watcher matches against")
WATCH_RETRIES = Counter(
    "lznews_watch_retries_total", "Watcher batch retries (cluster or Kafka trouble)", ["reason"]
)
ALERT_DELIVERIES = Counter(
    "lznews_alert_deliveries_total", "Alerts by final delivery outcome", ["result"]
)
ALERT_DELIVERY_FAILURES = Counter(
    "lznews_alert_delivery_failures_total",
    "Failed webhook attempts (each retry counts), by reason",
    ["reason"],
)
ALERT_DELIVERY_LATENCY = Histogram(
    "lznews_alert_delivery_latency_seconds",
    "Time from match to successful webhook delivery",
    buckets=FRESHNESS_BUCKETS,
)
