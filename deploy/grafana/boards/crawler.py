"""lznews crawler: fetches, publishing, refusals; filtered by the site template variable."""

from __future__ import annotations

from .panels import DATASOURCE, bargauge, dead_letters, process, stat, timeseries, up
from .queries import quantiles, rate

SITE = 'site=~"$site"'  # the selection of SITE_VARIABLE below

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
