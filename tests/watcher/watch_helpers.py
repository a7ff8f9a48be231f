"""Watcher test helpers: services as real subprocesses, a local webhook receiver, alerts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lznews_common.settings import Settings
from lznews_devstack.processes import free_port
from tests.support import metric_sum, settings_env, wait_for

BIN = Path(sys.executable).parent


class Service:
    """One lznews console script as a subprocess with its own metrics port on 127.0.0.1."""

    def __init__(self, command: str, s: Settings, log_path: Path, *args: str) -> None:
        self.command = command
        self.port = free_port()
        self.log_path = log_path
        env = os.environ | settings_env(s)
        env |= {"LZNEWS_METRICS_HOST": "127.0.0.1", "LZNEWS_METRICS_PORT": str(self.port)}
        self.log = open(log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen([str(BIN / command), *args], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def metric(self, name: str, **labels: str) -> float:
        return metric_sum(self.get("/metrics")[1], name, **labels)

    def health(self) -> dict[str, Any]:
        return json.loads(self.get("/healthz")[1])

    def wait_healthy(self, timeout_s: float = 60.0) -> None:
        def ok() -> bool:
            assert self.proc.poll() is None, f"{self.command} exited: {self.tail()}"
            try:
                return self.get("/healthz")[0] == 200
            except OSError:
                return False

        wait_for(ok, timeout_s, f"{self.command} /healthz")

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self, timeout_s: float = 30.0) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()
        return self.proc.returncode


def watch_cli(s: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "lznews-watch"), *args], env=os.environ | settings_env(s),
                          capture_output=True, text=True, timeout=60)


class WebhookReceiver:
    """A local HTTP endpoint (127.0.0.1 only) that records every POST and answers with the
    status `respond(alert, attempt)` chooses (attempt counts from 1 per alert id)."""

    def __init__(self, respond: Callable[[dict[str, Any], int], int] = lambda a, n: 200) -> None:
        self.respond = respond
        self.requests: list[tuple[dict[str, Any], dict[str, str], int]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with outer.lock:
                    attempt = 1 + sum(1 for b, _, _ in outer.requests
                                      if b["alert_id"] == body["alert_id"])
                    status = outer.respond(body, attempt)
                    outer.requests.append((body, dict(self.headers), status))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def delivered(self) -> list[dict[str, Any]]:
        with self.lock:
            return [b for b, _, status in self.requests if 200 <= status < 300]

    def attempts(self, alert_id: str) -> list[int]:
        with self.lock:
            return [status for b, _, status in self.requests if b["alert_id"] == alert_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
