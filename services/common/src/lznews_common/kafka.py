"""Kafka client factories: one place for bootstrap, security, compression, acks and timeouts."""

from __future__ import annotations

import ssl
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.structs import TopicPartition
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential

from lznews_common.settings import Settings


def client_config(s: Settings) -> dict[str, Any]:
    """Connection settings every kafka-python client shares (bootstrap, SASL, TLS)."""
    cfg: dict[str, Any] = {
        "bootstrap_servers": [b.strip() for b in s.kafka_bootstrap.split(",") if b.strip()],
        "security_protocol": s.kafka_security_protocol,
        "request_timeout_ms": s.kafka_request_timeout_ms,
    }
    if s.kafka_sasl_mechanism:
        cfg.update(
            sasl_mechanism=s.kafka_sasl_mechanism,
            sasl_plain_username=s.kafka_sasl_username,
            sasl_plain_password=s.kafka_sasl_password,
        )
    for key in ("cafile", "certfile", "keyfile"):
        value = getattr(s, f"kafka_ssl_{key}")
        if value:
            cfg[f"ssl_{key}"] = value
    return cfg


def producer(s: Settings, **overrides: Any) -> KafkaProducer:
    """A durable producer: acks=all, compressed, retries, large messages allowed."""
    cfg = client_config(s) | {
        "acks": "all",
        "compression_type": None if s.kafka_compression == "none" else s.kafka_compression,
        "max_request_size": s.kafka_max_request_bytes,
        "retries": 5,
        "retry_backoff_ms": 200,
        "linger_ms": 10,
        "max_in_flight_requests_per_connection": 1,  # keep per-key order across retries
        "delivery_timeout_ms": 120_000,
    }
    return KafkaProducer(**(cfg | overrides))


def consumer(s: Settings, group_id: str, *topics: str, **overrides: Any) -> KafkaConsumer:
    """A group consumer that commits by hand, after output is durable."""
    cfg = client_config(s) | {
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": s.kafka_session_timeout_ms,
        "heartbeat_interval_ms": s.kafka_heartbeat_interval_ms,
        "max_poll_interval_ms": 600_000,
        "fetch_max_bytes": max(52_428_800, s.kafka_max_request_bytes),
        "max_partition_fetch_bytes": s.kafka_max_request_bytes,
    }
    return KafkaConsumer(*topics, **(cfg | overrides))


def admin(s: Settings, **overrides: Any) -> KafkaAdminClient:
    return KafkaAdminClient(**(client_config(s) | overrides))


def faust_config(s: Settings) -> dict[str, Any]:
    """faust.App keyword settings equivalent to the factories above (aiokafka underneath)."""
    cfg: dict[str, Any] = {
        "broker": ";".join(f"kafka://{b.strip()}" for b in s.kafka_bootstrap.split(",")),
        "broker_session_timeout": s.kafka_session_timeout_ms / 1000,
        "broker_heartbeat_interval": s.kafka_heartbeat_interval_ms / 1000,
        "broker_request_timeout": max(s.kafka_request_timeout_ms / 1000, 90.0),
        "producer_acks": -1,
        "producer_compression_type": None if s.kafka_compression == "none" else s.kafka_compression,
        "producer_max_request_size": s.kafka_max_request_bytes,
        "consumer_max_fetch_size": s.kafka_max_request_bytes,
    }
    if s.kafka_security_protocol != "PLAINTEXT":
        import faust  # only needed for secured clusters

        context = ssl.create_default_context(cafile=s.kafka_ssl_cafile)
        if s.kafka_ssl_certfile:
            context.load_cert_chain(s.kafka_ssl_certfile, s.kafka_ssl_keyfile)
        if s.kafka_sasl_mechanism:
            cfg["broker_credentials"] = faust.SASLCredentials(
                username=s.kafka_sasl_username,
                password=s.kafka_sasl_password,
                mechanism=s.kafka_sasl_mechanism,
                ssl_context=context if s.kafka_security_protocol == "SASL_SSL" else None,
            )
        else:
            cfg["broker_credentials"] = context
    return cfg


def _retriable(exc: BaseException) -> bool:
    return bool(getattr(exc, "retriable", False))


# A new cluster creates its offsets topic on the first group look-up, and answers "coordinator
# not available" until it is there; a moved coordinator answers likewise for a moment.
@retry(retry=retry_if_exception(_retriable), stop=stop_after_delay(20),
       wait=wait_exponential(multiplier=0.1, max=2), reraise=True)
def committed_offsets(s: Settings, group: str) -> dict[TopicPartition, int]:
    """A group's committed offsets (partitions it never committed are absent)."""
    admin_client = admin(s)
    try:
        got = admin_client.list_group_offsets(group).get(group, {})
    finally:
        admin_client.close()
    return {tp: om.offset for tp, om in got.items() if om.offset is not None and om.offset >= 0}
