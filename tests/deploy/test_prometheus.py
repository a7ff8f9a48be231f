"""deploy/prometheus: promtool (when installed), PromQL parsing, metric names, scrape jobs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from deploycheck import (
    DEPLOY,
    ROOT,
    WORKLOADS,
    known_metric_names,
    load_yaml,
    promql_metric_names,
    readme_operations,
    service_metrics_port,
)

PROM = DEPLOY / "prometheus"
RULE_FILES = sorted((PROM / "rules").glob("*.yml"))
JOBS = {f"lznews-{w}" for w in WORKLOADS}


@pytest.fixture(scope="module")
def promtool() -> str:
    from deploycheck import tool

    path = tool("promtool", "PROMTOOL")
    if path is None:
        pytest.skip(
            "promtool not installed (not on PyPI; Debian's `prometheus` package or a Prometheus "
            "release has it; PROMTOOL=/path/to/promtool); the parser checks below still run"
        )
    return path


def run(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def alert_rules() -> list[dict[str, Any]]:
    return [r for f in RULE_FILES for g in load_yaml(f)["groups"] for r in g["rules"]]


def test_promtool_check_rules(promtool: str) -> None:
    result = run(promtool, "check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_unit_tests(promtool: str) -> None:
    result = run(promtool, "test", "rules", *map(str, (PROM / "tests").glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["prometheus.yml", "prometheus-k8s.yml"])
def test_promtool_check_config(promtool: str, name: str) -> None:
    result = run(promtool, "check", "config", "--syntax-only", str(PROM / name))
    if "kubernetes_sd_configs not found" in result.stdout + result.stderr:
        pytest.skip("this promtool was built without Kubernetes service discovery (Debian's)")
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_exist() -> None:
    assert RULE_FILES


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r.get("alert", r.get("record")))
def test_rule_uses_only_exported_metrics(rule: dict[str, Any]) -> None:
    pytest.importorskip("promql_parser", reason="promql-parser (PromQL parser)")
    names = promql_metric_names(rule["expr"])
    assert names, "selects no metric"
    assert not names - known_metric_names(), sorted(names - known_metric_names())


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r.get("alert", r.get("record")))
def test_alert_is_actionable(rule: dict[str, Any]) -> None:
    assert rule["labels"]["severity"] in {"warning", "critical"}
    assert rule["annotations"]["summary"] and rule["annotations"]["description"]
    if "for" in rule:
        assert re.fullmatch(r"\d+[smh]", rule["for"])


def test_metric_name_check_bites() -> None:
    pytest.importorskip("promql_parser", reason="promql-parser (PromQL parser)")
    names = promql_metric_names('sum(rate(lznews_crawler_pages_fetched{site="x"}[5m])) > up')
    assert names - known_metric_names() == {"lznews_crawler_pages_fetched"}  # missing _total
    with pytest.raises(ValueError):
        promql_metric_names("sum(rate(up[5m])")


def test_alert_names_unique() -> None:
    names = [r["alert"] for r in alert_rules()]
    assert len(names) == len(set(names))


def test_issue_alerts_present() -> None:
    """The alerts operations asked for: lag growing, dead-letter rate, a site not visited for
    hours, bulk failures, a service down."""
    pytest.importorskip("promql_parser", reason="promql-parser (PromQL parser)")
    by_metric: dict[str, set[str]] = {}
    for rule in alert_rules():
        for name in promql_metric_names(rule["expr"]):
            by_metric.setdefault(name, set()).add(rule["alert"])
    assert by_metric["lznews_indexer_consumer_lag"]
    assert by_metric["lznews_dead_letters_total"]
    assert by_metric["lznews_crawler_last_listing_success_timestamp_seconds"]
    assert by_metric["lznews_indexer_item_failures_total"]
    assert by_metric["up"]
    assert by_metric["lznews_fetch_to_searchable_seconds_bucket"]
    # Policy watch: webhook failures, alerts that may be lost.
    assert by_metric["lznews_alert_delivery_failures_total"]
    assert by_metric["lznews_watch_suppressed_total"]


def test_absence_alert_names_every_job() -> None:
    """`up{job=~...}` covers a new service by itself; `absent()` needs every job by name."""
    (rule,) = [r for r in alert_rules() if r["alert"] == "LznewsServiceAbsent"]
    assert set(re.findall(r'absent\(up\{job="([^"]+)"\}\)', rule["expr"])) == JOBS


def test_possibly_lost_alert_reads_the_unconfirmed_claims() -> None:
    (rule,) = [r for r in alert_rules() if r["alert"] == "LznewsAlertsPossiblyLost"]
    assert 'lznews_watch_suppressed_total{reason="unconfirmed"}' in rule["expr"]


def test_rules_name_only_scraped_jobs() -> None:
    for rule in alert_rules():
        for job in re.findall(r'job="([^"]+)"', rule["expr"]):
            assert job in JOBS, f"{rule['alert']}: no scrape job {job}"


def test_compose_scrape_jobs_find_every_replica() -> None:
    config = load_yaml(PROM / "prometheus.yml")
    compose = load_yaml(ROOT / "docker-compose.yml")
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert JOBS <= jobs.keys()
    for service in WORKLOADS:
        (sd,) = jobs[f"lznews-{service}"]["dns_sd_configs"]
        # DNS A records: one per container, so `--scale` adds targets by itself.
        assert sd["type"] == "A" and sd["names"] == [service]
        assert sd["port"] == service_metrics_port(service)
        assert service in compose["services"]
    mounts = compose["services"]["prometheus"]["volumes"]
    assert "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in mounts
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    assert "./deploy/prometheus/rules:/etc/prometheus/rules:ro" in mounts


def test_k8s_scrape_config_names_jobs_like_compose() -> None:
    config = load_yaml(PROM / "prometheus-k8s.yml")
    (job,) = config["scrape_configs"]
    relabel = {r.get("target_label"): r for r in job["relabel_configs"]}
    assert relabel["job"]["replacement"] == "lznews-$1"
    assert relabel["job"]["source_labels"] == ["__meta_kubernetes_pod_label_app_kubernetes_io_name"]


def test_unit_tests_cover_every_alert_file() -> None:
    for test_file in (PROM / "tests").glob("*.yml"):
        doc = load_yaml(test_file)
        for rule_file in doc["rule_files"]:
            assert (test_file.parent / rule_file).resolve() in {p.resolve() for p in RULE_FILES}


def test_every_alert_is_explained_in_readme() -> None:
    text = readme_operations()
    missing = [r["alert"] for r in alert_rules() if r["alert"] not in text]
    assert not missing, missing


def test_rule_files_are_not_test_files() -> None:
    # Prometheus loads rules/*.yml: a promtool test file there would break its config.
    for path in RULE_FILES:
        assert "tests" not in load_yaml(Path(path))
