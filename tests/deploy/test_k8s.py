"""deploy/k8s: Kubernetes schemas (kubernetes-validate), then how the pieces fit together."""

from __future__ import annotations

import re
from typing import Any

import pytest
from deploycheck import (
    DEPLOY,
    ROOT,
    SERVICES,
    WORKLOADS,
    image_instructions,
    last_instruction,
    load_yaml,
    load_yaml_all,
    service_metrics_port,
    setting_name,
    settings_fields,
)

K8S = DEPLOY / "k8s"
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
# Oldest supported: the crawler's replica index comes from the pod-index label (1.28).
VERSIONS = ["1.28.0", "1.37.0"]
KEDA = "keda.sh/v1alpha1"
# The alert sink's webhook URL may carry a token (docs/watch.md, "Policy watch").
SECRET_WORDS = ("PASSWORD", "API_KEY", "USERNAME", "SASL", "WEBHOOK_URL")


def documents() -> list[dict[str, Any]]:
    return [d for p in MANIFESTS for d in load_yaml_all(p)]


def find(kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [
        d
        for d in documents()
        if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]


def one(kind: str, name: str) -> dict[str, Any]:
    (doc,) = find(kind, name)
    return doc


def workload(service: str) -> dict[str, Any]:
    return one("StatefulSet" if service == "crawler" else "Deployment", service)


def container(service: str) -> dict[str, Any]:
    (c,) = workload(service)["spec"]["template"]["spec"]["containers"]
    return c


def config_data() -> dict[str, str]:
    return one("ConfigMap", "lznews-config")["data"]


def test_kustomization_lists_every_manifest() -> None:
    kustomization = load_yaml(K8S / "kustomization.yaml")
    assert sorted(kustomization["resources"]) == sorted(p.name for p in MANIFESTS)
    assert kustomization["namespace"] == "lznews"
    assert {i["name"] for i in kustomization["images"]} == {f"lznews/{s}" for s in SERVICES}


@pytest.mark.parametrize("version", VERSIONS)
def test_kubernetes_schemas(version: str) -> None:
    kv = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate (bundled schemas)")
    from kubernetes_validate.utils import SchemaNotFoundError

    checked = 0
    for doc in documents():
        try:
            kv.validate(doc, version, strict=True)
            checked += 1
        except SchemaNotFoundError:
            # CRDs (KEDA) have no bundled schema: test_scaled_objects checks them by structure.
            assert doc["apiVersion"] == KEDA, doc["kind"]
    assert checked == len([d for d in documents() if d["apiVersion"] != KEDA])


def test_schema_check_bites() -> None:
    kv = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate (bundled schemas)")
    from kubernetes_validate.utils import ValidationError

    broken = workload("indexer")
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["paht"] = "/"
    with pytest.raises(ValidationError):
        kv.validate(broken, VERSIONS[0], strict=True)


def test_a_workload_per_service() -> None:
    # The crawler is a StatefulSet: a stable replica index for site sharding and a volume per
    # replica for its seen-store. The consumers are Deployments scaled by KEDA.
    assert find("StatefulSet", "crawler")
    for name in WORKLOADS.keys() - {"crawler"}:
        assert find("Deployment", name), name
    for name, service in WORKLOADS.items():
        assert container(name)["image"] == f"lznews/{service}"


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_runs_its_command(name: str) -> None:
    """The image's own command by default; a further command of an image (the alert sink) is
    named in the container and declared by the image's distribution."""
    import tomllib

    c = container(name)
    service = WORKLOADS[name]
    if name == service:
        assert "command" not in c and "args" not in c
        return
    assert c["command"] == [f"lznews-{name}"] and "args" not in c
    pyproject = ROOT / f"services/{service}/pyproject.toml"
    scripts = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["scripts"]
    assert f"lznews-{name}" in scripts


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_pods_are_labelled_for_their_scrape_job(name: str) -> None:
    # prometheus-k8s.yml names the job lznews-<app.kubernetes.io/name>: the rules' job names.
    labels = workload(name)["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == name


@pytest.mark.parametrize("service", sorted(WORKLOADS))
def test_probes_hit_healthz_on_the_metrics_port(service: str) -> None:
    c = container(service)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports["metrics"] == service_metrics_port(service)
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        get = c[probe]["httpGet"]
        assert get["path"] == "/healthz", probe
        assert ports.get(get["port"], get["port"]) == service_metrics_port(service), probe
    annotations = workload(service)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(service_metrics_port(service))


@pytest.mark.parametrize("service", sorted(WORKLOADS))
def test_resources_requests_and_limits(service: str) -> None:
    resources = container(service)["resources"]
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= resources[bound].keys(), bound


@pytest.mark.parametrize("service", sorted(WORKLOADS))
def test_settings_come_from_the_configmap_and_secret(service: str) -> None:
    c = container(service)
    refs = {(k, v["name"], v.get("optional", False)) for e in c["envFrom"] for k, v in e.items()}
    assert ("configMapRef", "lznews-config", False) in refs
    assert ("secretRef", "lznews-secrets", True) in refs
    fields = settings_fields()
    for env in c.get("env", []):
        assert env["name"] in fields, env["name"]


@pytest.mark.parametrize("service", sorted(WORKLOADS))
def test_runs_as_the_images_user(service: str) -> None:
    user = last_instruction(image_instructions(WORKLOADS[service]), "USER")
    uid = int(re.fullmatch(r"(\d+)(:\d+)?", user).group(1))
    pod = workload(service)["spec"]["template"]["spec"]["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] == uid
    c = container(service)["securityContext"]
    assert c["allowPrivilegeEscalation"] is False and c["capabilities"]["drop"] == ["ALL"]
    if c.get("readOnlyRootFilesystem"):
        mounts = {m["mountPath"] for m in container(service).get("volumeMounts", [])}
        assert "/tmp" in mounts  # Python libraries (jieba's cache, tempfile) write there


def test_config_and_secret_hold_only_settings() -> None:
    fields = settings_fields()
    config = config_data()
    secret = one("Secret", "lznews-secrets")["stringData"]
    assert not (config.keys() | secret.keys()) - fields.keys()
    assert not [k for k in config if any(w in k for w in SECRET_WORDS)], "credential in ConfigMap"
    assert all(any(w in k for w in SECRET_WORDS) for k in secret)
    assert all(isinstance(v, str) for v in [*config.values(), *secret.values()])


@pytest.mark.parametrize("service", sorted(WORKLOADS))
def test_services_select_their_pods(service: str) -> None:
    svc = one("Service", service)
    labels = workload(service)["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= labels.items()
    names = {p["name"] for p in container(service)["ports"]}
    assert {p["targetPort"] for p in svc["spec"]["ports"]} <= names


def test_crawler_shards_by_pod_index() -> None:
    sts = one("StatefulSet", "crawler")
    env = {e["name"]: e for e in container("crawler")["env"]}
    index = env["LZNEWS_CRAWLER_REPLICA_INDEX"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert index == "metadata.labels['apps.kubernetes.io/pod-index']"
    assert int(env["LZNEWS_CRAWLER_REPLICA_COUNT"]["value"]) == sts["spec"]["replicas"]
    assert sts["spec"]["serviceName"] == one("Service", "crawler")["metadata"]["name"]
    state_dir = env["LZNEWS_CRAWLER_STATE_DIR"]["value"]
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    mounts = {m["name"]: m["mountPath"] for m in container("crawler")["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == state_dir


def consumer_group(service: str) -> str:
    if service == "normalizer":
        return "lznews-normalizer"  # the Faust app id
    # LZNEWS_TOPIC_PREFIX + LZNEWS_<SERVICE>_GROUP_ID, as the kafka-python consumers build it.
    name = setting_name(service, "GROUP_ID")
    group = config_data().get(name, settings_fields()[name].default)
    return config_data().get("LZNEWS_TOPIC_PREFIX", "") + group


CONSUMERS = [
    ("normalizer", "raw-pages"),
    ("indexer", "articles"),
    ("watcher", "articles"),
    ("alert-sink", "alerts"),
]


def test_every_consumer_is_scaled() -> None:
    assert {s for s, _ in CONSUMERS} == WORKLOADS.keys() - {"crawler"}


@pytest.mark.parametrize("service, topic", CONSUMERS)
def test_scaled_objects(service: str, topic: str) -> None:
    from lznews_common.topics import TOPICS

    scaled = one("ScaledObject", service)
    assert scaled["apiVersion"] == KEDA
    spec = scaled["spec"]
    assert spec["scaleTargetRef"]["name"] == service and find("Deployment", service)
    assert "replicas" not in workload(service)["spec"], "KEDA owns the replica count"
    partitions = int(config_data()["LZNEWS_TOPIC_PARTITIONS"])
    assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= partitions
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "kafka"
    meta = trigger["metadata"]
    assert all(isinstance(v, str) for v in meta.values()), "KEDA metadata values are strings"
    assert meta["bootstrapServers"] == config_data()["LZNEWS_KAFKA_BOOTSTRAP"]
    assert meta["consumerGroup"] == consumer_group(service)
    assert meta["topic"] == config_data().get("LZNEWS_TOPIC_PREFIX", "") + topic
    assert topic in {t.base for t in TOPICS}
    assert int(meta["lagThreshold"]) > 0
    assert meta["offsetResetPolicy"] == "earliest"  # as the consumers start


def test_topics_job_uses_the_shared_definition() -> None:
    job = one("Job", "lznews-topics")
    (c,) = job["spec"]["template"]["spec"]["containers"]
    assert "topics.ensure_topics" in "\n".join(c["command"])
    assert {"configMapRef": {"name": "lznews-config"}} in c["envFrom"]


def test_everything_in_one_namespace() -> None:
    for doc in documents():
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "lznews", doc["metadata"]["name"]
