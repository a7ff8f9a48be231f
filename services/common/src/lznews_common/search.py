"""Elasticsearch client factory with the two wire flavours (DESIGN.md: LZNEWS_ES_FLAVOR)."""

from __future__ import annotations

from typing import Any

from elastic_transport import HttpHeaders, Urllib3HttpNode
from elasticsearch import Elasticsearch

from lznews_common.settings import Settings


class PlainJsonNode(Urllib3HttpNode):
    """Servers such as osmem-server answer 406 to Elasticsearch's versioned media types
    (application/vnd.elasticsearch+json; compatible-with=9): send plain JSON / NDJSON. (A real
    OpenSearch is still refused by the client: its answers lack X-Elastic-Product.)"""

    def perform_request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        **kwargs: Any,
    ) -> Any:
        if headers:
            headers = headers.copy()
            for name in ("accept", "content-type"):
                value = headers.get(name)
                if value and "vnd.elasticsearch" in value:
                    headers[name] = (
                        "application/x-ndjson" if "x-ndjson" in value else "application/json"
                    )
        return super().perform_request(method, target, body=body, headers=headers, **kwargs)


def es_client(s: Settings, **overrides: Any) -> Elasticsearch:
    kwargs: dict[str, Any] = {
        "request_timeout": s.es_timeout_s,
        "verify_certs": s.es_verify_certs,
        "retry_on_timeout": False,  # callers own retries (the indexer backs off and pauses)
        "max_retries": 0,
    }
    if s.es_flavor == "plain-json":
        kwargs["node_class"] = PlainJsonNode
    if s.es_ca_certs:
        kwargs["ca_certs"] = s.es_ca_certs
    if s.es_api_key:
        kwargs["api_key"] = s.es_api_key
    elif s.es_username:
        kwargs["basic_auth"] = (s.es_username, s.es_password or "")
    hosts = [u.strip() for u in s.es_url.split(",") if u.strip()]
    return Elasticsearch(hosts, **(kwargs | overrides))
