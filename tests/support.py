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

from kafka import KafkaConsumer

from lznews_common import kafka
from lznews_common.settings import Settings

BIN = Path(sys.executable).parent


def service_env(settings: Settings, **extra: object) -> dict[str, str]:
    """The environment a service subprocess gets: the session stack plus this test's topics."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LZNEWS_")}
    env.update({k: v for k, v in os.environ.items() if k.startswith("LZNEWS_")})
    env["LZNEWS_TOPIC_PREFIX"] = settings.topic_prefix
    env.update({f"LZNEWS_{k.upper()}": str(v) for k, v in extra.items()})
    return env


def start_service(command: str, settings: Settings, log_path: Path, *args: str,
                  **extra: object) -> subprocess.Popen[bytes]:
    log = open(log_path, "ab")  # noqa: SIM115 (the process owns it)
    return subprocess.Popen([str(BIN / command), *args], stdout=log, stderr=subprocess.STDOUT,
                            env=service_env(settings, **extra), start_new_session=True)


def stop_service(proc: subprocess.Popen[bytes], timeout_s: float = 20.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def read_topic(settings: Settings, topic: str, until: Callable[[list[Any]], bool],
               timeout_s: float = 90.0, settle_s: float = 0.0) -> list[Any]:
    """Records of `topic` from the start until `until(records)` holds (then `settle_s` more to
    catch extras), or the timeout."""
    consumer: KafkaConsumer = kafka.consumer(settings, f"reader-{time.time_ns()}",
                                             settings.topic(topic))
    records: list[Any] = []
    deadline = time.monotonic() + timeout_s
    settle_end: float | None = None
    try:
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=300).values():
                records.extend(batch)
            if settle_end is None and until(records):
                settle_end = time.monotonic() + settle_s
            if settle_end is not None and time.monotonic() >= settle_end:
                break
    finally:
        consumer.close()
    return records


def metric_value(port: int, name: str, **labels: str) -> float:
    """Sum of the samples of `name` matching `labels` on a service's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    total = 0.0
    for line in text.splitlines():
        m = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if not m:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(m.group(2))
    return total


def health(port: int) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as err:
        return json.load(err)


def wait_for(predicate: Callable[[], Any], timeout_s: float, what: str) -> Any:
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
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what} (last error: {last})")
