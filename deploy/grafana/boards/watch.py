"""lznews policy watch: the matcher and the alert sink (one image) on one dashboard."""

from __future__ import annotations

from .panels import process, stat, timeseries
from .queries import quantiles, rate

# Matcher (job lznews-watcher) and alert sink (job lznews-alert-sink), one image, one dashboard.
# Alerts are rare: counts per hour read better than per-second rates.
WATCH_JOBS = ("lznews-watcher", "lznews-alert-sink")
WATCH = [
    stat(
        "Replicas up",
        "Scraped replicas answering /metrics, matcher and alert sink; fewer than expected means a "
        "crashed or unready pod.",
        [
            (f'sum by (job) (up{{job=~"{"|".join(WATCH_JOBS)}"}})', "{{job}} up"),
            (f'count by (job) (up{{job=~"{"|".join(WATCH_JOBS)}"}})', "{{job}} expected"),
        ],
        width=12,
    ),
    stat(
        "Watches",
        "Watches the matcher matches every article against (reloaded for every batch).",
        [("max(lznews_watch_watches)", "watches")],
    ),
    stat(
        "Articles read by outcome",
        "Articles the watcher read per second, by outcome; tracks the normaliser's output.",
        [rate("lznews_watch_articles_total", "result")],
        unit="ops",
    ),
    timeseries(
        "Matches per watch",
        "Alerts published to the alerts topic in the last hour, per watch.",
        [("sum by (watch) (increase(lznews_watch_matches_total[1h]))", "{{watch}}")],
    ),
    timeseries(
        "Suppressed matches",
        "Matches not alerted in the last hour, by reason: already_alerted (a replay), superseded "
        "(an older fetch), unconfirmed (a claim never confirmed: the alert may be lost).",
        [("sum by (reason) (increase(lznews_watch_suppressed_total[1h]))", "{{reason}}")],
    ),
    timeseries(
        "Match latency",
        "Time to match one batch of articles against every watch.",
        quantiles("lznews_watch_match_latency_seconds", qs=(0.5, 0.99)),
        unit="s",
    ),
    timeseries(
        "Watcher retries",
        "Batches the watcher retried per second, by reason (cluster or Kafka trouble).",
        [rate("lznews_watch_retries_total", "reason")],
        unit="ops",
    ),
    timeseries(
        "Deliveries by result",
        "Alerts the sink finished in the last hour, by result: delivered, digest_only (no "
        "webhook), dead_lettered (retries exhausted or refused), invalid.",
        [("sum by (result) (increase(lznews_alert_deliveries_total[1h]))", "{{result}}")],
    ),
    timeseries(
        "Delivery failures by reason",
        "Failed webhook attempts in the last hour (every retry counts), by reason: http_4xx, "
        "http_429, http_5xx, timeout, connection, unsendable (an alert no HTTP request can carry).",
        [
            (
                "sum by (reason) (increase(lznews_alert_delivery_failures_total[1h]))",
                "{{reason}}",
            )
        ],
    ),
    timeseries(
        "Delivery latency",
        "Time from the match to the webhook's acknowledgement.",
        quantiles("lznews_alert_delivery_latency_seconds"),
        unit="s",
    ),
    timeseries(
        "Dead letters by service",
        "Articles (watcher) and alerts (alert-sink) parked in dead-letters per second, by service, "
        "stage and error type.",
        [
            rate(
                "lznews_dead_letters_total",
                "service, stage, error_type",
                'service=~"watcher|alert-sink"',
            )
        ],
        unit="ops",
    ),
    *process(*WATCH_JOBS),
]
