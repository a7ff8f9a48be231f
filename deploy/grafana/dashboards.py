"""Writes the Grafana dashboards in deploy/grafana/dashboards/ from the panel lists below.

Run `python deploy/grafana/dashboards.py` after editing; tests/deploy checks the committed JSON
equals this output and that every query uses only metrics lznews_common.metrics exports. Panel
titles and descriptions are what README.md, "Operations > Dashboards", explains.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

OUT = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}  # provisioned with this uid
RATE = "$__rate_interval"


@dataclass
class Panel:
    title: str
    description: str
    targets: list[tuple[str, str]]  # (PromQL, legend)
    unit: str = "short"
    kind: str = "timeseries"
    width: int = 12
    extra: dict = field(default_factory=dict)


def quantiles(metric: str, by: str = "", qs: tuple[float, ...] = (0.5, 0.95, 0.99)):
    group = f"le, {by}" if by else "le"
    prefix = f"{{{{{by}}}}} " if by else ""
    return [
        (
            f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket[{RATE}])))",
            f"{prefix}p{round(q * 100)}",
        )
        for q in qs
    ]


def up(job: str) -> Panel:
    return Panel(
        "Replicas up",
        "Scraped replicas answering /metrics; fewer than expected means a crashed or unready pod.",
        [(f'sum(up{{job="{job}"}})', "up"), (f'count(up{{job="{job}"}})', "expected")],
        kind="stat",
        width=6,
    )


def process(job: str, *more: str) -> list[Panel]:
    """Memory and CPU per replica of one job, or of several (a regex, legend by job)."""
    if more:
        match, legend = f'job=~"{"|".join((job, *more))}"', "{{job}} {{instance}}"
    else:
        match, legend = f'job="{job}"', "{{instance}}"
    return [
        Panel(
            "Memory (RSS)",
            "Resident memory per replica, to set Kubernetes requests and limits.",
            [(f"process_resident_memory_bytes{{{match}}}", legend)],
            unit="bytes",
        ),
        Panel(
            "CPU",
            "CPU seconds per second per replica (1 = one core).",
            [(f"rate(process_cpu_seconds_total{{{match}}}[{RATE}])", legend)],
            unit="percentunit",
        ),
    ]


def dead_letters(service: str) -> Panel:
    return Panel(
        "Dead letters by stage",
        "Messages this service parked in dead-letters, by stage and error type (per second).",
        [
            (
                f'sum by (stage, error_type) (rate(lznews_dead_letters_total{{service="{service}"}}'
                f"[{RATE}]))",
                "{{stage}} {{error_type}}",
            )
        ],
        unit="ops",
    )


PIPELINE = [
    Panel(
        "Throughput by stage",
        "Pages acknowledged by Kafka (crawler), pages consumed and articles emitted (normaliser), "
        "documents written (indexer), articles matched against the watches (watcher), per "
        "second. The lines should track each other.",
        [
            (f"sum(rate(lznews_crawler_published_total[{RATE}]))", "crawler published"),
            (f"sum(rate(lznews_normalizer_pages_in_total[{RATE}]))", "normaliser in"),
            (f"sum(rate(lznews_normalizer_articles_out_total[{RATE}]))", "normaliser out"),
            (f"sum(rate(lznews_indexer_documents_total[{RATE}]))", "indexer documents"),
            (f"sum(rate(lznews_watch_articles_total[{RATE}]))", "watcher articles"),
        ],
        unit="ops",
        width=24,
    ),
    Panel(
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
    Panel(
        "Freshness: fetch to searchable",
        "Time from the crawler's fetch to the bulk that made the article searchable.",
        quantiles("lznews_fetch_to_searchable_seconds"),
        unit="s",
    ),
    Panel(
        "Dead letters by service",
        "Messages parked in dead-letters per second, by service and stage.",
        [
            (
                f"sum by (service, stage) (rate(lznews_dead_letters_total[{RATE}]))",
                "{{service}} {{stage}}",
            )
        ],
        unit="ops",
    ),
    Panel(
        "Errors",
        "Failures that need attention: Kafka publish failures, dead letters that could not be "
        "written, bulk item failures and bulk retries, watcher retries and failed webhook "
        "attempts, per second.",
        [
            (f"sum(rate(lznews_crawler_publish_failures_total[{RATE}]))", "crawler publish"),
            (
                f"sum by (service) (rate(lznews_dead_letter_publish_failures_total[{RATE}]))",
                "dead-letter publish {{service}}",
            ),
            (f"sum(rate(lznews_indexer_item_failures_total[{RATE}]))", "indexer items"),
            (f"sum(rate(lznews_indexer_retries_total[{RATE}]))", "indexer retries"),
            (f"sum(rate(lznews_watch_retries_total[{RATE}]))", "watcher retries"),
            (
                f"sum(rate(lznews_alert_delivery_failures_total[{RATE}]))",
                "alert delivery failures",
            ),
        ],
        unit="ops",
    ),
    Panel(
        "Services up",
        "Replicas answering /metrics per service.",
        [('sum by (job) (up{job=~"lznews-.+"})', "{{job}}")],
        kind="stat",
        width=24,
    ),
]

CRAWLER = [
    up("lznews-crawler"),
    Panel(
        "Article URLs seen",
        "Size of the seen-store: article URLs already published, never fetched again.",
        [("sum(lznews_crawler_seen_urls)", "seen")],
        kind="stat",
        width=6,
    ),
    Panel(
        "Time since last listing visit",
        "Per site, time since a listing page was last fetched successfully; over 3 hours alerts.",
        [
            (
                "time() - max by (site) (lznews_crawler_last_listing_success_timestamp_seconds"
                '{site=~"$site"})',
                "{{site}}",
            )
        ],
        unit="s",
        kind="bargauge",
    ),
    Panel(
        "Pages fetched by site",
        "Listing and article pages fetched per second, by site and page kind.",
        [
            (
                f'sum by (site, kind) (rate(lznews_crawler_pages_fetched_total{{site=~"$site"}}'
                f"[{RATE}]))",
                "{{site}} {{kind}}",
            )
        ],
        unit="ops",
    ),
    Panel(
        "Pages fetched by status",
        "Responses per second by HTTP status: 304 are unchanged listings, 4xx/5xx failures.",
        [
            (
                f'sum by (status) (rate(lznews_crawler_pages_fetched_total{{site=~"$site"}}'
                f"[{RATE}]))",
                "{{status}}",
            )
        ],
        unit="ops",
    ),
    Panel(
        "Bytes fetched",
        "Response bytes per second by site.",
        [
            (
                f"sum by (site) (rate(lznews_crawler_bytes_fetched_total"
                f'{{site=~"$site"}}[{RATE}]))',
                "{{site}}",
            )
        ],
        unit="Bps",
    ),
    Panel(
        "Published and failed",
        "Raw pages Kafka acknowledged and did not acknowledge, per second and site.",
        [
            (
                f'sum by (site) (rate(lznews_crawler_published_total{{site=~"$site"}}[{RATE}]))',
                "published {{site}}",
            ),
            (
                f"sum by (site) (rate(lznews_crawler_publish_failures_total"
                f'{{site=~"$site"}}[{RATE}]))',
                "failed {{site}}",
            ),
        ],
        unit="ops",
    ),
    Panel(
        "Publish latency",
        "Time from send to Kafka acknowledgement (acks=all).",
        quantiles("lznews_crawler_publish_latency_seconds"),
        unit="s",
    ),
    Panel(
        "Requests refused",
        "Requests the safety rules refused (robots.txt, domain, private address, size), by reason.",
        [
            (
                f"sum by (reason) (rate(lznews_crawler_requests_refused_total[{RATE}]))",
                "{{reason}}",
            )
        ],
        unit="ops",
    ),
    dead_letters("crawler"),
    *process("lznews-crawler"),
]

NORMALIZER = [
    up("lznews-normalizer"),
    Panel(
        "Pages in, articles out",
        "Raw pages consumed and articles emitted per second; the gap is duplicates and dead "
        "letters.",
        [
            (f"sum(rate(lznews_normalizer_pages_in_total[{RATE}]))", "pages in"),
            (f"sum(rate(lznews_normalizer_articles_out_total[{RATE}]))", "articles out"),
        ],
        unit="ops",
        width=18,
    ),
    Panel(
        "Articles out by site",
        "Articles emitted per second by site.",
        [
            (
                f"sum by (site) (rate(lznews_normalizer_articles_out_total[{RATE}]))",
                "{{site}}",
            )
        ],
        unit="ops",
    ),
    Panel(
        "Stage latency (p95)",
        "95th percentile time spent in each normalisation stage.",
        quantiles("lznews_normalizer_stage_seconds", by="stage", qs=(0.95,)),
        unit="s",
    ),
    Panel(
        "Duplicates",
        "Duplicates found and not re-emitted per second: exact (content hash) and near (simhash).",
        [
            (
                f"sum by (kind) (rate(lznews_normalizer_duplicates_total[{RATE}]))",
                "{{kind}}",
            )
        ],
        unit="ops",
    ),
    Panel(
        "Entities per article",
        "Average entities tagged per article, by kind; a drop to zero means a broken tagger.",
        [
            (
                f"sum by (kind) (rate(lznews_normalizer_entities_per_article_sum[{RATE}]))"
                f" / sum by (kind) (rate(lznews_normalizer_entities_per_article_count[{RATE}]))",
                "{{kind}}",
            )
        ],
    ),
    Panel(
        "Cleaning",
        "What cleaning removed or repaired per second (pinyin, boilerplate, mojibake, spam).",
        [
            (
                f"sum by (counter) (rate(lznews_normalizer_cleaning_total[{RATE}]))",
                "{{counter}}",
            )
        ],
        unit="ops",
    ),
    dead_letters("normalizer"),
    *process("lznews-normalizer"),
]

INDEXER = [
    up("lznews-indexer"),
    Panel(
        "Seconds since last bulk",
        "Time since the last successful bulk; grows while Elasticsearch is down or nothing "
        "arrives.",
        [("time() - max(lznews_indexer_last_bulk_success_timestamp_seconds)", "seconds")],
        unit="s",
        kind="stat",
        width=6,
    ),
    Panel(
        "Consumer lag",
        "Articles not yet indexed: highest offset seen + 1 minus committed, per partition.",
        [("sum by (topic, partition) (lznews_indexer_consumer_lag)", "{{topic}}/{{partition}}")],
        width=12,
    ),
    Panel(
        "Documents by outcome",
        "Documents per second by bulk result (indexed, version conflict = older copy, failed).",
        [
            (
                f"sum by (result) (rate(lznews_indexer_documents_total[{RATE}]))",
                "{{result}}",
            )
        ],
        unit="ops",
    ),
    Panel(
        "Bulk latency",
        "Bulk request latency.",
        quantiles("lznews_indexer_bulk_latency_seconds"),
        unit="s",
    ),
    Panel(
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
    Panel(
        "Retries and item failures",
        "Bulk retries by reason (429, 5xx, unreachable) and item failures by reason.",
        [
            (f"sum by (reason) (rate(lznews_indexer_retries_total[{RATE}]))", "retry {{reason}}"),
            (
                f"sum by (reason) (rate(lznews_indexer_item_failures_total[{RATE}]))",
                "failed {{reason}}",
            ),
        ],
        unit="ops",
    ),
    Panel(
        "Freshness: fetch to searchable",
        "Time from the crawler's fetch to the bulk that made the article searchable.",
        quantiles("lznews_fetch_to_searchable_seconds"),
        unit="s",
    ),
    dead_letters("indexer"),
    *process("lznews-indexer"),
]

# Matcher (job lznews-watcher) and alert sink (job lznews-alert-sink), one image, one dashboard.
# Alerts are rare: counts per hour read better than per-second rates.
WATCH_JOBS = ("lznews-watcher", "lznews-alert-sink")
WATCH = [
    Panel(
        "Replicas up",
        "Scraped replicas answering /metrics, matcher and alert sink; fewer than expected means a "
        "crashed or unready pod.",
        [
            (f'sum by (job) (up{{job=~"{"|".join(WATCH_JOBS)}"}})', "{{job}} up"),
            (f'count by (job) (up{{job=~"{"|".join(WATCH_JOBS)}"}})', "{{job}} expected"),
        ],
        kind="stat",
        width=12,
    ),
    Panel(
        "Watches",
        "Watches the matcher matches every article against (reloaded for every batch).",
        [("max(lznews_watch_watches)", "watches")],
        kind="stat",
        width=6,
    ),
    Panel(
        "Articles read by outcome",
        "Articles the watcher read per second, by outcome; tracks the normaliser's output.",
        [
            (
                f"sum by (result) (rate(lznews_watch_articles_total[{RATE}]))",
                "{{result}}",
            )
        ],
        unit="ops",
        kind="stat",
        width=6,
    ),
    Panel(
        "Matches per watch",
        "Alerts published to the alerts topic in the last hour, per watch.",
        [("sum by (watch) (increase(lznews_watch_matches_total[1h]))", "{{watch}}")],
    ),
    Panel(
        "Suppressed matches",
        "Matches not alerted in the last hour, by reason: already_alerted (a replay), superseded "
        "(an older fetch), unconfirmed (a claim never confirmed: the alert may be lost).",
        [("sum by (reason) (increase(lznews_watch_suppressed_total[1h]))", "{{reason}}")],
    ),
    Panel(
        "Match latency",
        "Time to match one batch of articles against every watch.",
        quantiles("lznews_watch_match_latency_seconds", qs=(0.5, 0.99)),
        unit="s",
    ),
    Panel(
        "Watcher retries",
        "Batches the watcher retried per second, by reason (cluster or Kafka trouble).",
        [(f"sum by (reason) (rate(lznews_watch_retries_total[{RATE}]))", "{{reason}}")],
        unit="ops",
    ),
    Panel(
        "Deliveries by result",
        "Alerts the sink finished in the last hour, by result: delivered, digest_only (no "
        "webhook), dead_lettered (retries exhausted or refused), invalid.",
        [("sum by (result) (increase(lznews_alert_deliveries_total[1h]))", "{{result}}")],
    ),
    Panel(
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
    Panel(
        "Delivery latency",
        "Time from the match to the webhook's acknowledgement.",
        quantiles("lznews_alert_delivery_latency_seconds"),
        unit="s",
    ),
    Panel(
        "Dead letters by service",
        "Articles (watcher) and alerts (alert-sink) parked in dead-letters per second, by service, "
        "stage and error type.",
        [
            (
                "sum by (service, stage, error_type) (rate(lznews_dead_letters_total"
                f'{{service=~"watcher|alert-sink"}}[{RATE}]))',
                "{{service}} {{stage}} {{error_type}}",
            )
        ],
        unit="ops",
    ),
    *process(*WATCH_JOBS),
]

SITE_VARIABLE = {
    "name": "site",
    "label": "site",
    "type": "query",
    "datasource": DATASOURCE,
    "query": {"query": "label_values(lznews_crawler_pages_fetched_total, site)", "refId": "site"},
    "definition": "label_values(lznews_crawler_pages_fetched_total, site)",
    "includeAll": True,
    "multi": True,
    "allValue": ".*",
    "current": {"text": "All", "value": "$__all"},
    "refresh": 2,
    "sort": 1,
}

DASHBOARDS = {
    "lznews-pipeline": ("lznews pipeline", PIPELINE, []),
    "lznews-crawler": ("lznews crawler", CRAWLER, [SITE_VARIABLE]),
    "lznews-normalizer": ("lznews normaliser", NORMALIZER, []),
    "lznews-indexer": ("lznews indexer", INDEXER, []),
    "lznews-watcher": ("lznews policy watch", WATCH, []),
}


def panel_json(panel: Panel, pid: int, x: int, y: int) -> dict:
    heights = {"stat": 5, "bargauge": 8}
    return {
        "id": pid,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": heights.get(panel.kind, 8), "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}}
        if panel.kind == "timeseries"
        else {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
        "targets": [
            {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": chr(65 + i)}
            for i, (expr, legend) in enumerate(panel.targets)
        ],
        **panel.extra,
    }


def dashboard(uid: str, title: str, panels: list[Panel], variables: list[dict]) -> dict:
    laid: list[dict] = []
    x = y = row_h = 0
    for pid, panel in enumerate(panels, start=1):
        if x + panel.width > 24:  # next row
            x, y, row_h = 0, y + row_h, 0
        item = panel_json(panel, pid, x, y)
        laid.append(item)
        x += panel.width
        row_h = max(row_h, item["gridPos"]["h"])
    return {
        "uid": uid,
        "title": title,
        "tags": ["lznews"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": variables},
        "annotations": {"list": []},
        "links": [
            {"type": "dashboards", "tags": ["lznews"], "asDropdown": True, "title": "lznews"}
        ],
        "panels": laid,
    }


def render() -> dict[str, str]:
    """File name -> JSON text of every dashboard."""
    return {
        f"{uid}.json": json.dumps(dashboard(uid, *spec), indent=2, ensure_ascii=False) + "\n"
        for uid, spec in DASHBOARDS.items()
    }


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text, encoding="utf-8")
        print(f"wrote {OUT / name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
