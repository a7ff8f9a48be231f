"""Helpers the integration tests share: service subprocesses, reading topics, scraping metrics."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from lznews_common import kafka
from lznews_common.settings import Settings
from lznews_common.topics import prepare_topics
from lznews_devstack.processes import die_with_parent

BIN = Path(sys.executable).parent


def private_settings(settings: Settings, partitions: int, **overrides: Any) -> Settings:
    """Settings with the test's own index alias beside its own topics, which are created."""
    s = settings.model_copy(update={
        "es_alias": f"{settings.topic_prefix}lznews-articles", "topic_partitions": partitions,
        **overrides})
    prepare_topics(s)
    return s


def service_env(settings: Settings, **extra: object) -> dict[str, str]:
    """The environment a service subprocess gets: the session stack plus this test's topics."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LZNEWS_")}
    env.update({k: v for k, v in os.environ.items() if k.startswith("LZNEWS_")})
    env["LZNEWS_TOPIC_PREFIX"] = settings.topic_prefix
    env.update({f"LZNEWS_{k.upper()}": str(v) for k, v in extra.items()})
    return env


def settings_env(s: Settings) -> dict[str, str]:
    """Every field of `s` as the LZNEWS_* variables that reproduce it in a subprocess."""
    env: dict[str, str] = {}
    for name in Settings.model_fields:
        value = getattr(s, name)
        if value is None:
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        env[f"LZNEWS_{name.upper()}"] = text
    return env


def start_service(command: str, settings: Settings, log_path: Path, *args: str,
                  **extra: object) -> subprocess.Popen[bytes]:
    log = open(log_path, "ab")  # noqa: SIM115 (the process owns it)
    return subprocess.Popen([str(BIN / command), *args], stdout=log, stderr=subprocess.STDOUT,
                            env=service_env(settings, **extra), start_new_session=True,
                            preexec_fn=die_with_parent)


def stop_service(proc: subprocess.Popen[bytes], timeout_s: float = 20.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def read_topic(settings: Settings, base: str,
               want: int | Callable[[list[Any]], bool] | None = None,
               timeout_s: float = 30.0, quiet_s: float = 2.0, settle_s: float = 0.0) -> list[Any]:
    """Every record of a topic from the start, read without a consumer group (no join delay,
    nothing committed). Reads until `want` holds (a count, or a predicate over the records)
    and then `settle_s` more to catch extras; with no `want`, until nothing new came for
    quiet_s. Tansu's end offsets are wrong, so "the end" cannot be asked for."""
    topic = settings.topic(base)
    consumer = KafkaConsumer(**kafka.client_config(settings), enable_auto_commit=False,
                             group_id=None, auto_offset_reset="earliest")
    done = (want if callable(want) else
            (lambda r: len(r) >= want) if want is not None else None)
    records: list[Any] = []
    try:
        deadline = time.monotonic() + timeout_s
        parts = None
        while not parts and time.monotonic() < deadline:
            parts = consumer.partitions_for_topic(topic)
            if not parts:
                time.sleep(0.2)
        if not parts:
            return []
        tps = [TopicPartition(topic, p) for p in parts]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        last = time.monotonic()
        settle_end: float | None = None
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=300).values():
                records.extend(batch)
                last = time.monotonic()
            if done is None:
                if time.monotonic() - last > quiet_s:
                    break
                continue
            if settle_end is None and done(records):
                settle_end = time.monotonic() + settle_s
            if settle_end is not None and time.monotonic() >= settle_end:
                break
        return records
    finally:
        consumer.close()


def metric_sum(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` in Prometheus text whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        m = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if not m:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(m.group(2))
    return total


def metrics_text(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        return resp.read().decode()


def metric_value(port: int, name: str, **labels: str) -> float:
    """metric_sum over a service's live /metrics."""
    return metric_sum(metrics_text(port), name, **labels)


def health(port: int) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as err:
        return json.load(err)


def wait_for(predicate: Callable[[], Any], timeout_s: float, what: str,
             every_s: float = 0.25) -> Any:
    """predicate() until it is truthy (exceptions count as not yet); its value."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            last = None
            if value:
                return value
        except Exception as exc:  # not ready yet
            last = exc
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what} (last error: {last})")
