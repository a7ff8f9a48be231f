"""Shared helpers of the deployment checks: paths, the exported metric names, PromQL parsing."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# A service is a distribution under services/ with its own image: the target of that name in the
# repository's Dockerfile.
SERVICES = ("crawler", "normalizer", "indexer", "watcher")
DOCKERFILE = ROOT / "Dockerfile"
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


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined: BuildKit's own parser (the
    `dockerfile` package) when installed, else a line parser good enough for these files."""
    try:
        import dockerfile
    except ImportError:
        text = re.sub(r"\\\n(\s*#[^\n]*\n)*", "", path.read_text(encoding="utf-8"))
        lines = [line.strip() for line in text.splitlines()]
        return [
            (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
            for line in lines
            if line and not line.startswith("#")
        ]
    return [(c.cmd.upper(), c.original.split(None, 1)[1]) for c in dockerfile.parse_file(str(path))]


@dataclass(frozen=True)
class Stage:
    name: str
    base: str  # an image, or an earlier stage's name
    instructions: tuple[tuple[str, str], ...]  # after its FROM


def stages(path: Path = DOCKERFILE) -> dict[str, Stage]:
    """The build stages of a multi-stage Dockerfile by name (`FROM <base> AS <name>`)."""
    found: list[tuple[str, str, list[tuple[str, str]]]] = []
    for cmd, args in instructions(path):
        if cmd == "FROM":
            base, _, name = args.partition(" AS ")  # BuildKit accepts `as` too; these files don't
            found.append((name.strip() or str(len(found)), base.strip(), []))
        else:
            found[-1][2].append((cmd, args))
    return {name: Stage(name, base, tuple(instrs)) for name, base, instrs in found}


def target_chain(target: str, path: Path = DOCKERFILE) -> list[Stage]:
    """The stages a target's image is built from, the one FROM an image first: a stage inherits
    its base stage's files and image config (ENV, USER, EXPOSE, HEALTHCHECK, CMD)."""
    by_name = stages(path)
    assert target in by_name, f"{path.name} has no target {target}"
    chain = [by_name[target]]
    while chain[0].base in by_name:
        chain.insert(0, by_name[chain[0].base])
    return chain


def image_instructions(target: str, path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """Every instruction that makes the target's image, starting with ("FROM", base image)."""
    chain = target_chain(target, path)
    return [("FROM", chain[0].base), *(i for stage in chain for i in stage.instructions)]


def last_instruction(found: list[tuple[str, str]], cmd: str) -> str:
    """The arguments of the instruction that wins (USER, CMD, HEALTHCHECK: the last one)."""
    args = [a for c, a in found if c == cmd]
    assert args, f"no {cmd}"
    return args[-1]


def image_env(target: str) -> dict[str, str]:
    """The ENV a target's image sets (`ENV K=V ...` form, the only one these files use)."""
    env: dict[str, str] = {}
    for cmd, args in image_instructions(target):
        if cmd == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(args))
    return env


OPERATIONS_DOC = ROOT / "docs" / "operations.md"


def readme_operations() -> str:
    """The operations documentation: docs/operations.md below its '# Operations' title (it was the
    '## Operations' section of README.md; its sections are '## ' headings now)."""
    text = OPERATIONS_DOC.read_text(encoding="utf-8")
    match = re.search(r"^# Operations\n(.*)", text, re.S | re.M)
    assert match, "docs/operations.md has no '# Operations' title"
    return match.group(1)


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for v in node.values():
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)
