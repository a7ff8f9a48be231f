"""lznews indexer: consumer lag, bulk outcomes, latency and size, retries, freshness."""

from __future__ import annotations

from .panels import dead_letters, process, stat, timeseries, up
from .queries import RATE, quantiles, rate

INDEXER = [
    up("lznews-indexer"),
    stat(
        "Seconds since last bulk",
        "Time since the last successful bulk; grows while Elasticsearch is down or nothing "
        "arrives.",
        [("time() - max(lznews_indexer_last_bulk_success_timestamp_seconds)", "seconds")],
        unit="s",
    ),
    timeseries(
        "Consumer lag",
        "Articles not yet indexed: highest offset seen + 1 minus committed, per partition.",
        [("sum by (topic, partition) (lznews_indexer_consumer_lag)", "{{topic}}/{{partition}}")],
    ),
    timeseries(
        "Documents by outcome",
        "Documents per second by bulk result (indexed, version conflict = older copy, failed).",
        [rate("lznews_indexer_documents_total", "result")],
        unit="ops",
    ),
    timeseries(
        "Bulk latency",
        "Bulk request latency.",
        quantiles("lznews_indexer_bulk_latency_seconds"),
        unit="s",
    ),
    timeseries(
        "Bulk size",
        "Average documents per bulk; small bulks under load mean the time bound fires first.",
        [
            (
                f"sum(rate(lznews_indexer_bulk_documents_sum[{RATE}]))"
                f" / sum(rate(lznews_indexer_bulk_documents_count[{RATE}]))",
                "documents per bulk",
            )
        ],
    ),
    timeseries(
        "Retries and item failures",
        "Bulk retries by reason (429, 5xx, unreachable) and item failures by reason.",
        [
            rate("lznews_indexer_retries_total", "reason", legend="retry {{reason}}"),
            rate("lznews_indexer_item_failures_total", "reason", legend="failed {{reason}}"),
        ],
        unit="ops",
    ),
    timeseries(
        "Freshness: fetch to searchable",
        "Time from the crawler's fetch to the bulk that made the article searchable.",
        quantiles("lznews_fetch_to_searchable_seconds"),
        unit="s",
    ),
    dead_letters("indexer"),
    *process("lznews-indexer"),
]
