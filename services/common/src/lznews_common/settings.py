"""Every LZNEWS_* setting, defined once.

Values come from the environment first, then from the env file that `lznews-stack up` writes
(LZNEWS_ENV_FILE, default .lznews/stack.env), then the defaults below. Defaults suit real
Kafka and Elasticsearch; the embedded stack writes the overrides its stand-ins need.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ENV_FILE = ".lznews/stack.env"


class SettingsError(ValueError):
    """A setting that cannot be used, said in one line that names its variable."""


def env_file() -> Path:
    return Path(os.environ.get("LZNEWS_ENV_FILE", DEFAULT_ENV_FILE))


class Settings(BaseSettings):
    """All settings of all services. Each field is the env var LZNEWS_<FIELD NAME>."""

    model_config = SettingsConfigDict(env_prefix="LZNEWS_", extra="ignore")

    @field_validator("es_url")
    @classmethod
    def _urls(cls, value: str) -> str:
        for url in (u.strip() for u in value.split(",")):
            parts = urlsplit(url)
            try:
                parts.port  # noqa: B018 (raises on a port that is not a number)
            except ValueError:
                raise ValueError(f"{url!r} has a bad port") from None
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} is not an http(s)://host[:port] URL")
        return value

    @field_validator("kafka_bootstrap")
    @classmethod
    def _servers(cls, value: str) -> str:
        for server in (b.strip() for b in value.split(",")):
            host, colon, port = server.rpartition(":")
            if not server or (colon and (not host or not port.isdigit()
                                         or not 0 < int(port) < 65536)):
                raise ValueError(f"{server!r} is not host[:port]")
        return value

    # --- Kafka -------------------------------------------------------------------------------
    kafka_bootstrap: str = Field(
        "127.0.0.1:9092", description="Kafka bootstrap servers, comma separated"
    )
    topic_prefix: str = Field("", description="Prefix for every topic name")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="Kafka security protocol"
    )
    kafka_sasl_mechanism: str | None = Field(
        None, description="SASL mechanism (PLAIN, SCRAM-SHA-512)"
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user name")
    kafka_sasl_password: str | None = Field(None, description="SASL password")
    kafka_ssl_cafile: str | None = Field(None, description="CA bundle for Kafka TLS")
    kafka_ssl_certfile: str | None = Field(None, description="Client certificate for Kafka mTLS")
    kafka_ssl_keyfile: str | None = Field(None, description="Client key for Kafka mTLS")
    kafka_compression: Literal["gzip", "lz4", "zstd", "snappy", "none"] = Field(
        "gzip", description="Producer compression codec"
    )
    kafka_max_request_bytes: int = Field(
        16 * 1024 * 1024, description="Largest message the producer sends (raw pages can be big)"
    )
    # Real Kafka's defaults; the local stack's env file lowers them so that a killed member's
    # partitions move within seconds (and Tansu, which holds JoinGroup for half the session
    # timeout, joins in seconds).
    kafka_session_timeout_ms: int = Field(45000, description="Consumer group session timeout")
    kafka_heartbeat_interval_ms: int = Field(3000, description="Consumer group heartbeat interval")
    kafka_request_timeout_ms: int = Field(30000, description="Kafka request timeout")
    topic_partitions: int = Field(6, description="Partitions for topics created by ensure-topics")
    topic_replication: int = Field(1, description="Replication factor for created topics")

    # --- Elasticsearch / OpenSearch ----------------------------------------------------------
    es_url: str = Field(
        "http://127.0.0.1:9200", description="Search cluster URL(s), comma separated"
    )
    # plain-json is not OpenSearch: the elasticsearch client refuses a real OpenSearch (its
    # answers lack X-Elastic-Product); it serves servers such as osmem-server that answer as
    # Elasticsearch but take only plain application/json.
    es_flavor: Literal["elasticsearch", "plain-json"] = Field(
        "elasticsearch",
        description="elasticsearch: versioned media types; plain-json: the same client with "
        "plain application/json (osmem-server; not a real OpenSearch)",
    )
    es_api_key: str | None = Field(None, description="Elasticsearch API key (base64 id:key)")
    es_username: str | None = Field(None, description="Basic auth user")
    es_password: str | None = Field(None, description="Basic auth password")
    es_verify_certs: bool = Field(True, description="Verify the cluster's TLS certificate")
    es_ca_certs: str | None = Field(None, description="CA bundle for the cluster's TLS")
    es_timeout_s: float = Field(30.0, description="Request timeout for the search cluster")
    es_alias: str = Field("lznews-articles", description="Write alias of the article index")

    # --- Every service -------------------------------------------------------------------------
    metrics_host: str = Field("0.0.0.0", description="Bind address of /metrics and /healthz")
    metrics_port: int = Field(0, description="Port of /metrics and /healthz (0 = service default)")
    log_level: str = Field("INFO", description="Python log level")
    startup_wait_s: float = Field(
        60.0, gt=0,
        description="How long a starting service waits for Kafka before it exits (status 2)",
    )
    unhealthy_after_s: float = Field(
        300.0, gt=0,
        description="A consumer whose output (search cluster, webhook, dead letters) keeps "
        "failing this long reports /healthz unhealthy (it keeps retrying, commits nothing)",
    )
    dead_letter_retry_s: float = Field(
        300.0, gt=0,
        description="How long a dead letter Kafka refuses is retried; then the consumer stops "
        "consuming, commits nothing past the record and reports /healthz unhealthy",
    )
    max_article_bytes: int = Field(
        8 * 1024 * 1024, gt=0,
        description="Larger records on `articles` are dead-lettered (as a reference) unread",
    )
    max_alert_bytes: int = Field(
        1024 * 1024, gt=0,
        description="Larger records on `alerts` are dead-lettered (as a reference) unread",
    )

    # --- Crawler ---------------------------------------------------------------------------------
    crawler_sites_file: str | None = Field(
        None, description="YAML/JSON site list (default: bundled)"
    )
    crawler_user_agent: str = Field(
        "lznews-crawler/0.1 (+https://github.com/lznews/lznews; policy-news monitor)",
        description="User-Agent with a contact URL",
    )
    crawler_state_dir: str = Field(".lznews/crawler", description="Crawler seen-store directory")
    crawler_allow_private: bool = Field(
        False, description="Allow requests to private/loopback addresses (tests, offline mirror)"
    )
    crawler_max_page_bytes: int = Field(5 * 1024 * 1024, description="Response size cap")
    crawler_replica_index: int = Field(0, description="This replica's index (site sharding)")
    crawler_replica_count: int = Field(1, description="Number of crawler replicas")
    crawler_metrics_port: int = Field(9101, description="Crawler /metrics port")
    crawler_host_map: str = Field(
        "",
        description="Send requests for site hosts to another address, as to an HTTP proxy: "
        "`host=127.0.0.1:port` pairs, comma separated, `*` for every host (tests, offline mirror)",
    )
    crawler_timeout_s: float = Field(30.0, description="Crawler download timeout")
    crawler_retries: int = Field(2, description="Retries of a failed download within one visit")
    crawler_retry_backoff_s: float = Field(
        2.0, description="First retry delay; doubles on each further retry"
    )
    crawler_concurrency: int = Field(16, description="Concurrent requests over all sites")
    crawler_autothrottle: bool = Field(
        True, description="Adapt each site's delay to its latency (never below its own delay)"
    )
    crawler_publish_timeout_s: float = Field(
        60.0, description="How long a raw page may wait for Kafka's acknowledgement"
    )
    crawler_max_attempts: int = Field(
        3, description="Visits an article may fail transiently before it is dead-lettered"
    )

    # --- Normaliser ------------------------------------------------------------------------------
    normalizer_metrics_port: int = Field(9102, description="Normaliser /metrics port")
    normalizer_web_port: int = Field(6066, description="Faust worker web port")
    normalizer_data_dir: str = Field(".lznews/normalizer", description="Faust table data directory")
    normalizer_stall_s: float = Field(
        60.0, description="Input waiting this long unprocessed: rewind, then exit (restart)"
    )
    normalizer_near_duplicate_bits: int = Field(
        6, ge=0, le=7,
        description="Simhash distance at or below which a new URL is a near duplicate (0-7)",
    )
    normalizer_page_timeout_s: float = Field(
        20.0, gt=0,
        description="Time budget of one page: past it the page is stopped and dead-lettered "
        "(timeout)",
    )
    normalizer_page_memory_mb: int = Field(
        2048, ge=0,
        description="Address-space cap of the process that normalises pages (0 = none); a page "
        "that needs more is dead-lettered (memory)",
    )

    # --- Indexer ---------------------------------------------------------------------------------
    indexer_metrics_port: int = Field(9103, description="Indexer /metrics port")
    indexer_bulk_max_docs: int = Field(500, description="Flush a bulk at this many documents")
    indexer_bulk_max_bytes: int = Field(5 * 1024 * 1024, description="Flush a bulk at this size")
    indexer_bulk_max_wait_s: float = Field(2.0, description="Flush a bulk after this long")
    indexer_retry_max_s: float = Field(60.0, description="Longest backoff between bulk retries")
    indexer_retry_initial_s: float = Field(
        0.5, description="First backoff between bulk retries; doubles per retry, with jitter"
    )
    indexer_group_id: str = Field(
        "lznews-indexer", description="Indexer consumer group (LZNEWS_TOPIC_PREFIX is prepended)"
    )
    indexer_index_check_s: float = Field(
        30.0, description="How often the indexer checks that the write alias and its index survive"
    )
    indexer_rewind_on_index_loss: bool = Field(
        True,
        description="Re-read the (compacted) articles topic from the start when the index was lost",
    )
    indexer_index_shards: int = Field(1, description="Primary shards of each backing index")
    indexer_index_replicas: int = Field(1, description="Replicas of each backing index")

    # --- Watch (saved searches, alerts) ----------------------------------------------------
    watcher_metrics_port: int = Field(9104, description="Watcher (matcher) /metrics port")
    watcher_group_id: str = Field(
        "lznews-watcher", description="Watcher consumer group (LZNEWS_TOPIC_PREFIX is prepended)"
    )
    watch_matcher: Literal["auto", "percolator", "scratch"] = Field(
        "auto",
        description="How articles are matched against watches: percolator queries, a scratch "
        "index in the service, or auto (percolator when the cluster runs it)",
    )
    watch_retry_initial_s: float = Field(
        0.5, description="First backoff when the watcher cannot reach the cluster or Kafka"
    )
    watch_retry_max_s: float = Field(30.0, description="Longest watcher backoff")
    alert_sink_metrics_port: int = Field(9105, description="Alert sink /metrics port")
    alert_sink_group_id: str = Field(
        "lznews-alert-sink",
        description="Alert sink consumer group (LZNEWS_TOPIC_PREFIX is prepended)",
    )
    watch_webhook_url: str = Field(
        "", description="Webhook the alert sink POSTs each alert to (empty: no webhook)"
    )
    watch_webhook_timeout_s: float = Field(10.0, description="Timeout of one webhook request")
    watch_webhook_max_attempts: int = Field(
        5, ge=1, description="Webhook attempts per alert before it is dead-lettered"
    )
    watch_webhook_retry_initial_s: float = Field(
        1.0, description="First webhook retry delay; doubles per attempt, with jitter"
    )
    watch_webhook_retry_max_s: float = Field(60.0, description="Longest webhook retry delay")
    watch_digest_dir: str = Field(
        "", description="Directory of the daily Markdown digests per watch (empty: none)"
    )

    # --- The local stack (lznews-stack, lznews-run, the tests) ---------------------------------
    stack_kafka: Literal["auto", "apache", "tansu"] = Field(
        "auto", description="Broker of the local stack: apache (Apache Kafka on the JVM), tansu "
        "(zero-JVM stand-in), auto (apache where Java and Maven are installed)"
    )

    def topic(self, base: str) -> str:
        return f"{self.topic_prefix}{base}"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and the stack env file (if present); SettingsError names
    the variables that are wrong."""
    path = env_file()
    try:
        return Settings(_env_file=path if path.exists() else None,  # type: ignore[call-arg]
                        **overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = "LZNEWS_" + "_".join(str(part) for part in err["loc"]).upper()
            problems.append(f"{name}={err.get('input')!r}: {err['msg']}")
        raise SettingsError("; ".join(problems)) from None


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


def markdown_table() -> str:
    """The settings table docs/settings.md carries: `python -m lznews_common.settings`."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, f in Settings.model_fields.items():
        default = "" if f.default is None else f.default
        rows.append(f"| `LZNEWS_{name.upper()}` | `{default}` | {f.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
