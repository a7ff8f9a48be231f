"""PromQL builders shared by the dashboards: per-second rates and histogram quantiles."""

from __future__ import annotations

RATE = "$__rate_interval"
Queries = list[tuple[str, str]]  # (PromQL, legend)


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
