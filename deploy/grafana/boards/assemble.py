"""The dashboards' list, their grid layout, and their rendering to Grafana JSON."""

from __future__ import annotations

import json

import attr
from grafanalib._gen import DashboardEncoder
from grafanalib.core import Dashboard, DashboardLink, GridPos, Panel, Templating, Time

from .crawler import CRAWLER, SITE_VARIABLE
from .indexer import INDEXER
from .normalizer import NORMALIZER
from .pipeline import PIPELINE
from .watch import WATCH

WIDTH = 24  # Grafana's grid columns

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
