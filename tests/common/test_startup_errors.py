"""What a user must fix is said in one line with exit status 2, never a traceback: a setting
that cannot be used, or a Kafka cluster that does not answer. Real commands, real servers."""

from __future__ import annotations

import os
import subprocess

import pytest

from lznews_common.settings import SettingsError, load_settings
from lznews_devstack.processes import free_port
from lznews_devstack.stack import LocalStack
from tests.support import BIN

SERVICES = ("lznews-normalizer", "lznews-indexer", "lznews-watcher", "lznews-alert-sink")


def _run(command: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LZNEWS_")}
    base["LZNEWS_ENV_FILE"] = "/nonexistent/stack.env"
    return subprocess.run([str(BIN / command), *args], env=base | env, capture_output=True,
                          text=True, timeout=120)


def _one_line(done: subprocess.CompletedProcess[str], prog: str) -> str:
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith(f"{prog}: ")]
    assert len(lines) == 1, done.stderr[-2000:]
    return lines[0]


@pytest.mark.parametrize(("variable", "value"), [
    ("LZNEWS_ES_TIMEOUT_S", "abc"),
    ("LZNEWS_ES_URL", "http//search:9200"),
    ("LZNEWS_ES_URL", "http://search:92000"),
    ("LZNEWS_ES_URL", "http://a:9200,ftp://b"),
    ("LZNEWS_KAFKA_BOOTSTRAP", "kafka:ninety"),
])
def test_a_bad_setting_names_its_variable(variable: str, value: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert str(err.value).startswith(f"{variable}={value!r}: ")
    assert "\n" not in str(err.value)


def test_good_servers_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LZNEWS_ES_URL", "http://a:9200, https://b")
    monkeypatch.setenv("LZNEWS_KAFKA_BOOTSTRAP", "k1:9092,k2,[::1]:9093")
    assert load_settings().es_url.endswith("https://b")


@pytest.mark.parametrize("command", SERVICES)
def test_every_service_says_a_bad_setting_in_one_line_with_exit_2(command: str) -> None:
    line = _one_line(_run(command, {"LZNEWS_ES_TIMEOUT_S": "abc"}, *(
        ["--digest", "/tmp"] if command == "lznews-alert-sink" else [])), command)
    assert "bad setting: LZNEWS_ES_TIMEOUT_S='abc'" in line


@pytest.mark.parametrize("command", ["lznews-normalizer", "lznews-indexer"])
def test_kafka_unreachable_is_one_line_and_exit_2(command: str, stack: LocalStack) -> None:
    env = {k: v for k, v in stack.env().items() if k.startswith("LZNEWS_ES")}
    # Nothing listens there; the search cluster is the real one (the indexer lays it out
    # before it turns to Kafka).
    env |= {"LZNEWS_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}", "LZNEWS_STARTUP_WAIT_S": "3",
            "LZNEWS_ES_ALIAS": "startup-test-articles", "LZNEWS_INDEXER_INDEX_REPLICAS": "0"}
    line = _one_line(_run(command, env), command)
    assert "not reachable after 3 s" in line and env["LZNEWS_KAFKA_BOOTSTRAP"] in line
