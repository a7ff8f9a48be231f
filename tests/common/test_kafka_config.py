"""The shared Kafka factories pass security, compression and group timing through."""

from __future__ import annotations

import os
from pathlib import Path

import faust
import pytest

from lznews_common import kafka
from lznews_common.settings import Settings


def test_plaintext_defaults_fit_real_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("LZNEWS_")]:
        monkeypatch.delenv(key)  # the defaults, not the session stack's settings
    s = Settings()
    cfg = kafka.client_config(s)
    assert cfg["bootstrap_servers"] == ["127.0.0.1:9092"]
    assert cfg["security_protocol"] == "PLAINTEXT" and "sasl_mechanism" not in cfg
    assert s.kafka_session_timeout_ms == 45000  # Kafka's own default; the stack lowers it
    assert kafka.faust_config(s)["broker_session_timeout"] == 45.0


def test_sasl_ssl_passthrough() -> None:
    ca = Path(__import__("certifi").where())
    s = Settings(kafka_bootstrap="k1:9093, k2:9093", kafka_security_protocol="SASL_SSL",
                 kafka_sasl_mechanism="SCRAM-SHA-512", kafka_sasl_username="lznews",
                 kafka_sasl_password="secret", kafka_ssl_cafile=str(ca),
                 kafka_compression="none", kafka_session_timeout_ms=6000)
    cfg = kafka.client_config(s)
    assert cfg["bootstrap_servers"] == ["k1:9093", "k2:9093"]
    assert (cfg["sasl_mechanism"], cfg["sasl_plain_username"], cfg["sasl_plain_password"]) == (
        "SCRAM-SHA-512", "lznews", "secret")
    assert cfg["ssl_cafile"] == str(ca)
    f = kafka.faust_config(s)
    assert f["broker"] == "kafka://k1:9093;kafka://k2:9093"
    assert f["producer_compression_type"] is None and f["broker_session_timeout"] == 6.0
    creds = f["broker_credentials"]
    assert isinstance(creds, faust.SASLCredentials)
    assert creds.username == "lznews" and creds.mechanism.value == "SCRAM-SHA-512"
    assert creds.ssl_context is not None
