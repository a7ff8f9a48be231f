"""Writes the Grafana dashboards in deploy/grafana/dashboards/ from the panel lists below, with
grafanalib.

Run `python deploy/grafana/dashboards.py` after editing; tests/deploy checks the committed JSON
equals this output and that every query uses only metrics lznews_common.metrics exports. Panel
titles and descriptions are what docs/operations.md, "Dashboards", explains.
"""

from __future__ import annotations

import json
import sys
from functools import partial
from pathlib import Path
from typing import Any

import attr
from grafanalib._gen import DashboardEncoder
from grafanalib.core import (
    Dashboard,
    DashboardLink,
    GridPos,
    Panel,
    Stat,
    Target,
    Templating,
    Time,
    TimeSeries,
)

OUT = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}  # provisioned with this uid
RATE = "$__rate_interval"
SITE = 'site=~"$site"'  # the crawler dashboard's site variable
WIDTH = 24  # Grafana's grid columns
# Grafana's own default. grafanalib writes empty steps otherwise, which would turn every stat
# green whatever its value.
THRESHOLDS = [{"color": "green", "value": None}, {"color": "red", "value": 80}]
Queries = list[tuple[str, str]]  # (PromQL, legend)


@attr.s
class BarGauge(Panel):
    """grafanalib's BarGauge writes Grafana 6's options.fieldOptions, which newer Grafana migrates
    over fieldConfig (losing the unit); this writes the current layout."""

    unit: str = attr.ib(default="short")

    def to_json_data(self) -> dict[str, Any]:
        return self.panel_json(
            {
                "type": "bargauge",
                "fieldConfig": {"defaults": {"unit": self.unit}, "overrides": []},
                "options": {
                    "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}
                },
            }
        )


def panel(
    kind: type[Panel],
    title: str,
    description: str,
    queries: Queries,
    unit: str = "short",
    width: int = 12,
) -> Panel:
    """A panel on the provisioned datasource; layout() sets x and y."""
    options: dict[str, Any] = {"unit": unit}
    if kind is Stat:  # grafanalib calls the unit format; "No data" rather than its "none"
        options = {"format": unit, "reduceCalc": "lastNotNull", "noValue": None}
    return kind(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        # intervalFactor 1: grafanalib's default 2 would halve every query's resolution.
        targets=[
            Target(
                expr=e, legendFormat=lg, refId=chr(65 + i), datasource=DATASOURCE, intervalFactor=1
            )
            for i, (e, lg) in enumerate(queries)
        ],
        gridPos=GridPos(h=5 if kind is Stat else 8, w=width, x=0, y=0),
        maxDataPoints=None,  # the panel's width in pixels, not grafanalib's 100
        thresholds=THRESHOLDS,
        **options,
    )


timeseries = partial(panel, TimeSeries)
bargauge = partial(panel, BarGauge)
stat = partial(panel, Stat, width=6)


def quantiles(metric: str, by: str = "", qs: tuple[float, ...] = (0.5, 0.95, 0.99)) -> Queries:
    group = f"le, {by}" if by else "le"
    prefix = f"{{{{{by}}}}} " if by else ""
    return [
        (
            f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket[{RATE}])))",
            f"{prefix}p{round(q * 100)}",
        )
        for q in qs
    ]


def rate(metric: str, by: str = "", where: str = "", legend: str = "") -> tuple[str, str]:
    """Per-second rate of a counter summed [by labels]; the legend names the labels by default."""
    selector = f"{metric}{{{where}}}" if where else metric
    total = f"sum by ({by}) " if by else "sum"
    labels = " ".join(f"{{{{{label}}}}}" for label in by.split(", ") if label)
    return f"{total}(rate({selector}[{RATE}]))", legend or labels


def up(job: str) -> Panel:
    return stat(
        "Replicas up",
        "Scraped replicas answering /metrics; fewer than expected means a crashed or unready pod.",
        [(f'sum(up{{job="{job}"}})', "up"), (f'count(up{{job="{job}"}})', "expected")],
    )


def process(job: str, *more: str) -> list[Panel]:
    """Memory and CPU per replica of one job, or of several (a regex, legend by job)."""
    if more:
        match, legend = f'job=~"{"|".join((job, *more))}"', "{{job}} {{instance}}"
    else:
        match, legend = f'job="{job}"', "{{instance}}"
    return [
        timeseries(
            "Memory (RSS)",
            "Resident memory per replica, to set Kubernetes requests and limits.",
            [(f"process_resident_memory_bytes{{{match}}}", legend)],
            unit="bytes",
        ),
        timeseries(
            "CPU",
            "CPU seconds per second per replica (1 = one core).",
            [(f"rate(process_cpu_seconds_total{{{match}}}[{RATE}])", legend)],
            unit="percentunit",
        ),
    ]


def dead_letters(service: str) -> Panel:
    return timeseries(
        "Dead letters by stage",
        "Messages this service parked in dead-letters, by stage and error type (per second).",
        [rate("lznews_dead_letters_total", "stage, error_type", f'service="{service}"')],
        unit="ops",
    )


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

CRAWLER = [
    up("lznews-crawler"),
    stat(
        "Article URLs seen",
        "Size of the seen-store: article URLs already published, never fetched again.",
        [("sum(lznews_crawler_seen_urls)", "seen")],
    ),
    bargauge(
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
    ),
    timeseries(
        "Pages fetched by site",
        "Listing and article pages fetched per second, by site and page kind.",
        [rate("lznews_crawler_pages_fetched_total", "site, kind", SITE)],
        unit="ops",
    ),
    timeseries(
        "Pages fetched by status",
        "Responses per second by HTTP status: 304 are unchanged listings, 4xx/5xx failures.",
        [rate("lznews_crawler_pages_fetched_total", "status", SITE)],
        unit="ops",
    ),
    timeseries(
        "Bytes fetched",
        "Response bytes per second by site.",
        [rate("lznews_crawler_bytes_fetched_total", "site", SITE)],
        unit="Bps",
    ),
    timeseries(
        "Published and failed",
        "Raw pages Kafka acknowledged and did not acknowledge, per second and site.",
        [
            rate("lznews_crawler_published_total", "site", SITE, legend="published {{site}}"),
            rate("lznews_crawler_publish_failures_total", "site", SITE, legend="failed {{site}}"),
        ],
        unit="ops",
    ),
    timeseries(
        "Publish latency",
        "Time from send to Kafka acknowledgement (acks=all).",
        quantiles("lznews_crawler_publish_latency_seconds"),
        unit="s",
    ),
    timeseries(
        "Requests refused",
        "Requests the safety rules refused (robots.txt, domain, private address, size), by reason.",
        [rate("lznews_crawler_requests_refused_total", "reason")],
        unit="ops",
    ),
    dead_letters("crawler"),
    *process("lznews-crawler"),
]

NORMALIZER = [
    up("lznews-normalizer"),
    timeseries(
        "Pages in, articles out",
        "Raw pages consumed and articles emitted per second; the gap is duplicates and dead "
        "letters.",
        [
            rate("lznews_normalizer_pages_in_total", legend="pages in"),
            rate("lznews_normalizer_articles_out_total", legend="articles out"),
        ],
        unit="ops",
        width=18,
    ),
    timeseries(
        "Articles out by site",
        "Articles emitted per second by site.",
        [rate("lznews_normalizer_articles_out_total", "site")],
        unit="ops",
    ),
    timeseries(
        "Stage latency (p95)",
        "95th percentile time spent in each normalisation stage.",
        quantiles("lznews_normalizer_stage_seconds", by="stage", qs=(0.95,)),
        unit="s",
    ),
    timeseries(
        "Duplicates",
        "Duplicates found and not re-emitted per second: exact (content hash) and near (simhash).",
        [rate("lznews_normalizer_duplicates_total", "kind")],
        unit="ops",
    ),
    timeseries(
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
    timeseries(
        "Cleaning",
        "What cleaning removed or repaired per second (pinyin, boilerplate, mojibake, spam).",
        [rate("lznews_normalizer_cleaning_total", "counter")],
        unit="ops",
    ),
    dead_letters("normalizer"),
    *process("lznews-normalizer"),
]

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

# A dict: grafanalib's Template writes neither the `definition` Grafana shows (and the tests
# check) nor the query object current Grafana keeps.
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


def layout(panels: list[Panel]) -> list[Panel]:
    """Left to right in list order, a new row when the next panel does not fit."""
    placed: list[Panel] = []
    x = y = row_height = 0
    for item in panels:
        w, h = item.gridPos.w, item.gridPos.h
        if x + w > WIDTH:
            x, y, row_height = 0, y + row_height, 0
        placed.append(attr.evolve(item, gridPos=GridPos(h=h, w=w, x=x, y=y)))
        x, row_height = x + w, max(row_height, h)
    return placed


def dashboard(uid: str, title: str, panels: list[Panel], variables: list[dict]) -> Dashboard:
    return Dashboard(
        uid=uid,
        title=title,
        tags=["lznews"],
        timezone="browser",
        schemaVersion=39,  # grafanalib's default (12) would make Grafana re-migrate the JSON
        version=1,
        refresh="30s",
        time=Time("now-6h", "now"),
        templating=Templating(list=variables),
        links=[
            DashboardLink(
                type="dashboards", tags=["lznews"], asDropdown=True, title="lznews", keepTime=False
            )
        ],
        panels=layout(panels),
    ).auto_panel_ids()


def render() -> dict[str, str]:
    """File name -> JSON text of every dashboard."""
    return {
        f"{uid}.json": json.dumps(
            dashboard(uid, *spec).to_json_data(),
            cls=DashboardEncoder,
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
        )
        + "\n"
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
