"""/metrics and /healthz of the shared HTTP helper, over a real socket."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from lznews_common.httpserver import MetricsServer
from lznews_common.metrics import DEAD_LETTERS


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.mark.parametrize("healthy", [True, False])
def test_metrics_and_health(healthy: bool) -> None:
    DEAD_LETTERS.labels("test", "decode", "ValueError").inc()
    server = MetricsServer("127.0.0.1", 0, lambda: (healthy, {"kafka": healthy})).start()
    try:
        status, body = _get(server.port, "/metrics")
        assert status == 200
        assert b'lznews_dead_letters_total{error_type="ValueError",service="test",stage="decode"}' \
            in body
        status, body = _get(server.port, "/healthz")
        assert (status, json.loads(body)) == (200 if healthy else 503,
                                              {"ok": healthy, "kafka": healthy})
        assert _get(server.port, "/nope")[0] == 404
    finally:
        server.stop()


def test_health_check_that_raises_is_unhealthy() -> None:
    def broken() -> tuple[bool, dict]:
        raise RuntimeError("cluster unreachable")

    server = MetricsServer("127.0.0.1", 0, broken).start()
    try:
        status, body = _get(server.port, "/healthz")
        assert status == 503 and "cluster unreachable" in json.loads(body)["error"]
    finally:
        server.stop()
