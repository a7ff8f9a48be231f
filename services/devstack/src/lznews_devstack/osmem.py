"""osmem-server: the in-memory search server that answers the OpenSearch/Elasticsearch protocol
(with plain JSON media types: LZNEWS_ES_FLAVOR=plain-json)."""

from __future__ import annotations

import json
import urllib.request


def osmem_binary() -> str:
    import osmem_server  # late: as tansu_binary

    return osmem_server.resolve_binary()


def osmem_command(port: int) -> list[str]:
    return [osmem_binary(), "-addr", f"127.0.0.1:{port}", "-no-stdin-watch"]


def ping_search(port: int) -> None:
    """GET / answered with JSON, or an exception."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
        json.load(resp)
