"""Helpers for the crawler tests: run the real `lznews-crawler` command, read topics, metrics.

Scrapy's reactor cannot restart inside one process, so every crawl is a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from lznews_common.settings import Settings
from lznews_devstack.mirror import MirrorServer
from lznews_devstack.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
MIRROR = ROOT / "fixtures" / "mirror"
BIN = Path(sys.executable).parent


def fast_sites(path: Path, interval_s: float = 2.0, concurrency: int = 4) -> Path:
    """The bundled site list with test pacing: no delays, short intervals."""
    text = resources.files("lznews_crawler").joinpath("data", "sites.yaml").read_text("utf-8")
    doc = yaml.safe_load(text)
    for site in doc["sites"]:
        for key in ("interval_s", "download_delay_s", "concurrency"):
            site.pop(key, None)
    doc["defaults"].update(interval_s=interval_s, download_delay_s=0, concurrency=concurrency)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    return path


@dataclass
class CrawlerEnv:
    env: dict[str, str]
    metrics_port: int

    def run(self, *args: str, timeout: float = 90) -> dict[str, Any]:
        """Run to completion; returns the JSON summary the command prints last."""
        proc = subprocess.run([str(BIN / "lznews-crawler"), *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        assert proc.returncode == 0, proc.stderr[-4000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def start(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        with open(log, "wb") as out:
            return subprocess.Popen([str(BIN / "lznews-crawler"), *args], env=self.env,
                                    stdout=out, stderr=subprocess.STDOUT)

    def metrics(self) -> str:
        """The /metrics text ('' while the process is still starting)."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return resp.read().decode()
        except OSError:
            return ""


def crawler_env(settings: Settings, mirror: MirrorServer, tmp: Path, **extra: Any) -> CrawlerEnv:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LZNEWS_")}
    env.update({
        "LZNEWS_ENV_FILE": str(tmp / "absent.env"),
        "LZNEWS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "LZNEWS_TOPIC_PREFIX": settings.topic_prefix,
        "LZNEWS_TOPIC_PARTITIONS": "2",
        "LZNEWS_CRAWLER_SITES_FILE": str(fast_sites(tmp / "sites.yaml")),
        "LZNEWS_CRAWLER_STATE_DIR": str(tmp / "state"),
        "LZNEWS_CRAWLER_HOST_MAP": f"*=127.0.0.1:{mirror.port}",
        "LZNEWS_CRAWLER_ALLOW_PRIVATE": "true",
        "LZNEWS_CRAWLER_AUTOTHROTTLE": "false",
        "LZNEWS_CRAWLER_TIMEOUT_S": "1",
        "LZNEWS_CRAWLER_RETRIES": "1",
        "LZNEWS_CRAWLER_RETRY_BACKOFF_S": "0.2",
        "LZNEWS_CRAWLER_MAX_PAGE_BYTES": str(1 << 20),
        "LZNEWS_CRAWLER_PUBLISH_TIMEOUT_S": "20",
        "LZNEWS_METRICS_HOST": "127.0.0.1",
        "LZNEWS_METRICS_PORT": str(port),
    })
    env.update({k: str(v) for k, v in extra.items()})
    return CrawlerEnv(env, port)
