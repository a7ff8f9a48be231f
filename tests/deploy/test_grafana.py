"""deploy/grafana: generated dashboards, their queries' metric names, the provisioning files."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from deploycheck import (
    DEPLOY,
    ROOT,
    SERVICES,
    known_metric_names,
    load_yaml,
    promql_metric_names,
    readme_operations,
)

GRAFANA = DEPLOY / "grafana"
DASHBOARD_FILES = sorted((GRAFANA / "dashboards").glob("*.json"))


def generator() -> Any:
    pytest.importorskip("grafanalib", reason="grafanalib (the dashboards' generator)")
    # The panels live in the package beside deploy/grafana/dashboards.py (which only writes files).
    return importlib.import_module("deploy.grafana.boards")


def dashboards() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in DASHBOARD_FILES}


def all_panels() -> list[tuple[str, dict[str, Any]]]:
    return [(uid, p) for uid, d in dashboards().items() for p in d["panels"]]


def test_committed_json_is_the_generators_output() -> None:
    rendered = generator().render()
    assert sorted(rendered) == [p.name for p in DASHBOARD_FILES], "stale or extra dashboard files"
    for path in DASHBOARD_FILES:
        assert path.read_text(encoding="utf-8") == rendered[path.name], (
            f"{path.name} is stale: run python deploy/grafana/dashboards.py"
        )


def test_a_dashboard_per_service_and_the_pipeline() -> None:
    assert set(dashboards()) == {"lznews-pipeline", *(f"lznews-{s}" for s in SERVICES)}
    for uid, board in dashboards().items():
        assert board["uid"] == uid and board["title"] and board["panels"]


def test_pipeline_shows_throughput_lag_latency_errors() -> None:
    titles = {p["title"] for p in dashboards()["lznews-pipeline"]["panels"]}
    assert {"Throughput by stage", "Backlog", "Freshness: fetch to searchable", "Errors"} <= titles


def test_policy_watch_shows_matches_deliveries_and_failures() -> None:
    board = dashboards()["lznews-watcher"]
    titles = {p["title"] for p in board["panels"]}
    assert {
        "Watches",
        "Matches per watch",
        "Match latency",
        "Deliveries by result",
        "Delivery failures by reason",
        "Delivery latency",
    } <= titles
    # One dashboard for both commands of the watcher image.
    exprs = " ".join(t["expr"] for p in board["panels"] for t in p["targets"])
    assert "lznews-watcher" in exprs and "lznews-alert-sink" in exprs


@pytest.mark.parametrize("uid, panel", all_panels(), ids=lambda v: v if isinstance(v, str) else "")
def test_panel_queries_use_exported_metrics(uid: str, panel: dict[str, Any]) -> None:
    pytest.importorskip("promql_parser", reason="promql-parser (PromQL parser)")
    assert panel["targets"], f"{uid}/{panel['title']} has no query"
    for target in panel["targets"]:
        names = promql_metric_names(target["expr"])
        unknown = names - known_metric_names()
        assert names and not unknown, f"{uid}/{panel['title']}: {sorted(unknown)}"


def test_template_variables_use_exported_metrics() -> None:
    for uid, board in dashboards().items():
        for variable in board["templating"]["list"]:
            for metric in re.findall(r"label_values\((\w+)", variable["definition"]):
                assert metric in known_metric_names(), f"{uid}: ${variable['name']} {metric}"


def test_panel_layout_and_ids() -> None:
    for uid, board in dashboards().items():
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), uid
        for panel in board["panels"]:
            grid = panel["gridPos"]
            assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, (uid, panel["title"])
            assert panel["description"], (uid, panel["title"])
            refs = [t["refId"] for t in panel["targets"]]
            assert len(refs) == len(set(refs))


def test_datasource_is_the_provisioned_one() -> None:
    (source,) = load_yaml(GRAFANA / "provisioning/datasources/prometheus.yml")["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    for uid, panel in all_panels():
        assert panel["datasource"] == {"type": "prometheus", "uid": source["uid"]}, uid
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == source["uid"]


def test_provisioning_matches_compose_mounts() -> None:
    compose = load_yaml(ROOT / "docker-compose.yml")
    mounts = dict(
        v.rsplit(":", 1)[0].split(":", 1)
        for v in compose["services"]["grafana"]["volumes"]
        if v.startswith("./")
    )
    (provider,) = load_yaml(GRAFANA / "provisioning/dashboards/lznews.yml")["providers"]
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    for path in mounts:
        assert Path(ROOT / path).exists()


def test_every_panel_is_explained_in_readme() -> None:
    text = readme_operations()
    missing = sorted({p["title"] for _, p in all_panels() if p["title"] not in text})
    assert not missing, missing
