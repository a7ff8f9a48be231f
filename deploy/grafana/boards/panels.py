"""Panel constructors on the provisioned datasource, and the panels every service dashboard has
(replicas up, memory and CPU, dead letters)."""

from __future__ import annotations

from functools import partial
from typing import Any

import attr
from grafanalib.core import GridPos, Panel, Stat, Target, TimeSeries

from .queries import RATE, Queries, rate

DATASOURCE = {"type": "prometheus", "uid": "prometheus"}  # provisioned with this uid
# Grafana's own default. grafanalib writes empty steps otherwise, which would turn every stat
# green whatever its value.
THRESHOLDS = [{"color": "green", "value": None}, {"color": "red", "value": 80}]


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
    """A panel on the provisioned datasource; assemble.layout() sets x and y."""
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
