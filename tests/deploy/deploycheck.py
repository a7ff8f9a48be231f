"""Shared helpers of the deployment checks: paths, the exported metric names, PromQL parsing."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# A service is a distribution under services/ with its own image (services/<name>/Dockerfile).
SERVICES = ("crawler", "normalizer", "indexer", "watcher")
# What runs: each image's own command (lznews-<service>), plus further commands of an image,
# deployed as workloads of their own (compose service, Deployment, scrape job lznews-<workload>).
# workload -> the service whose image it runs.
WORKLOADS: dict[str, str] = {**{s: s for s in SERVICES}, "alert-sink": "watcher"}

# Prometheus' own series for every scrape target; everything else must come from the services.
PROMETHEUS_SYNTHETIC = {"up"}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_yaml_all(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def tool(name: str, env_var: str | None = None) -> str | None:
    """A command-line tool: $env_var, then the venv's bin (pip-installed tools), then PATH."""
    if env_var and os.environ.get(env_var):
        return os.environ[env_var]
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    return shutil.which(name)


@cache
def exported_metric_names() -> frozenset[str]:
    """Every sample name a service's /metrics can carry: lznews_common.metrics plus the default
    process collector (the services serve prometheus_client's default registry)."""
    from prometheus_client import PROCESS_COLLECTOR
    from prometheus_client.metrics import MetricWrapperBase

    from lznews_common import metrics

    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "summary": ("", "_sum", "_count", "_created"),
        "gauge": ("",),
        "info": ("_info",),
    }
    names: set[str] = set()
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            for family in value.describe():
                names.update(family.name + s for s in suffixes.get(family.type, ("",)))
    names.update(s.name for family in PROCESS_COLLECTOR.collect() for s in family.samples)
    return frozenset(names)


def known_metric_names() -> frozenset[str]:
    return exported_metric_names() | PROMETHEUS_SYNTHETIC


# Grafana expands these before the query reaches Prometheus; any valid stand-in parses the same.
_GRAFANA_VARS = [
    (re.compile(r"\$__(rate_interval|interval|range)\b"), "5m"),
    (re.compile(r"\$\{?\w+\}?"), ".*"),
]


def promql_metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects; raises ValueError when it does not parse."""
    import promql_parser

    for pattern, replacement in _GRAFANA_VARS:
        expr = pattern.sub(replacement, expr)
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            for m in node.matchers.matchers:
                if m.name == "__name__":
                    names.add(m.value)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def settings_fields() -> dict[str, Any]:
    """LZNEWS_<NAME> -> pydantic field of every setting."""
    from lznews_common.settings import Settings

    return {f"LZNEWS_{name.upper()}": f for name, f in Settings.model_fields.items()}


def setting_name(workload: str, suffix: str) -> str:
    """LZNEWS_<WORKLOAD>_<SUFFIX>: alert-sink -> LZNEWS_ALERT_SINK_..."""
    return f"LZNEWS_{workload.upper().replace('-', '_')}_{suffix}"


def service_metrics_port(workload: str) -> int:
    return settings_fields()[setting_name(workload, "METRICS_PORT")].default


def readme_operations() -> str:
    """The Operations section of README.md (up to the next top-level section)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Operations\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, "README.md has no '## Operations' section"
    return match.group(1)


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for v in node.values():
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)
