"""lznews pipeline: throughput, backlog, freshness and errors across every stage."""

from __future__ import annotations

from .panels import stat, timeseries
from .queries import quantiles, rate

PIPELINE = [
    timeseries(
        "Throughput by stage",
        "Pages acknowledged by Kafka (crawler), pages consumed and articles emitted (normaliser), "
        "documents written (indexer), articles matched against the watches (watcher), per "
        "second. The lines should track each other.",
        [
            rate("lznews_crawler_published_total", legend="crawler published"),
            rate("lznews_normalizer_pages_in_total", legend="normaliser in"),
            rate("lznews_normalizer_articles_out_total", legend="normaliser out"),
            rate("lznews_indexer_documents_total", legend="indexer documents"),
            rate("lznews_watch_articles_total", legend="watcher articles"),
        ],
        unit="ops",
        width=24,
    ),
    timeseries(
        "Backlog",
        "Indexer consumer lag on articles (exported by the indexer) and the raw-pages backlog "
        "estimated as pages published minus pages the normaliser consumed in the last hour.",
        [
            ("sum(lznews_indexer_consumer_lag)", "indexer lag (articles)"),
            (
                "sum(increase(lznews_crawler_published_total[1h]))"
                " - sum(increase(lznews_normalizer_pages_in_total[1h]))",
                "raw-pages backlog growth (1h)",
            ),
        ],
    ),
    timeseries(
        "Freshness: fetch to searchable",
        "Time from the crawler's fetch to the bulk that made the article searchable.",
        quantiles("lznews_fetch_to_searchable_seconds"),
        unit="s",
    ),
    timeseries(
        "Dead letters by service",
        "Messages parked in dead-letters per second, by service and stage.",
        [rate("lznews_dead_letters_total", "service, stage")],
        unit="ops",
    ),
    timeseries(
        "Errors",
        "Failures that need attention: Kafka publish failures, dead letters that could not be "
        "written, bulk item failures and bulk retries, watcher retries and failed webhook "
        "attempts, per second.",
        [
            rate("lznews_crawler_publish_failures_total", legend="crawler publish"),
            rate(
                "lznews_dead_letter_publish_failures_total",
                "service",
                legend="dead-letter publish {{service}}",
            ),
            rate("lznews_indexer_item_failures_total", legend="indexer items"),
            rate("lznews_indexer_retries_total", legend="indexer retries"),
            rate("lznews_watch_retries_total", legend="watcher retries"),
            rate("lznews_alert_delivery_failures_total", legend="alert delivery failures"),
        ],
        unit="ops",
    ),
    stat(
        "Services up",
        "Replicas answering /metrics per service.",
        [('sum by (job) (up{job=~"lznews-.+"})', "{{job}}")],
        width=24,
    ),
]
