"""lznews normaliser: pages in and articles out, stage latency, duplicates, entities, cleaning."""

from __future__ import annotations

from .panels import dead_letters, process, timeseries, up
from .queries import RATE, quantiles, rate

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
