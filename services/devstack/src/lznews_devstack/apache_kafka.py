"""Apache Kafka itself for the local stack: one KRaft node on the JVM.

The broker's jars come from Maven Central, resolved by `jvm/kafka-broker.pom.xml` into a cache
(`lznews-stack fetch-kafka`, run by `make install`); `java` runs them. The version is the one
docker-compose.yml and deploy/ run in production.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from importlib.resources import files
from pathlib import Path

from lznews_devstack.processes import StackError, free_port

CLUSTER_ID = "bHpuZXdzLWxvY2FsLXN0YQ"  # a KRaft cluster id is a base64 UUID: "lznews-local-sta"
JVM_DIR = files("lznews_devstack") / "jvm"
KAFKA_POM = Path(str(JVM_DIR / "kafka-broker.pom.xml"))
KAFKA_LOG4J = Path(str(JVM_DIR / "kafka-log4j2.xml"))


def kafka_version() -> str:
    text = KAFKA_POM.read_text()
    return text.split("<kafka.version>", 1)[1].split("<", 1)[0]


def kafka_libs() -> Path:
    """Where the broker's jars are cached (LZNEWS_JVM_CACHE, default ~/.cache/lznews)."""
    root = Path(os.environ.get("LZNEWS_JVM_CACHE") or Path.home() / ".cache" / "lznews")
    return root / f"kafka-{kafka_version()}"


def missing_jvm_tools() -> list[str]:
    return [tool for tool in ("java", "mvn") if shutil.which(tool) is None]


def fetch_kafka(timeout_s: float = 600.0) -> Path:
    """Resolve the broker's jars with Maven into the cache (once; later calls return at once)."""
    libs = kafka_libs()
    if (libs / ".complete").exists():
        return libs
    missing = missing_jvm_tools()
    if missing:
        raise StackError(f"Apache Kafka needs {' and '.join(missing)}, not found on PATH")
    libs.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=libs.name + ".", dir=libs.parent))
    done = subprocess.run(
        ["mvn", "-q", "-B", "-f", str(KAFKA_POM), "dependency:copy-dependencies",
         f"-DoutputDirectory={staging}"],
        capture_output=True, text=True, timeout=timeout_s,
    )
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        raise StackError("resolving Apache Kafka with Maven failed: " + " | ".join(tail))
    (staging / ".complete").write_text(kafka_version())
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    return libs


def _kafka_properties(port: int, controller_port: int, advertised_port: int,
                      data_dir: Path) -> str:
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{advertised_port}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(data_dir / "log"),
        # One node: internal topics cannot have more replicas, and fewer partitions start faster.
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "5",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # A single-member group need not wait for others to join (3 s by default).
        "group.initial.rebalance.delay.ms": "0",
        # As docker-compose.yml runs it: topics only from ensure_topics (a typo fails loudly),
        # and room for the largest per-topic max.message.bytes.
        "auto.create.topics.enable": "false",
        "message.max.bytes": "33554432",
    }
    return "".join(f"{k}={v}\n" for k, v in props.items())


def _java(libs: Path, main: str, *args: str) -> list[str]:
    return ["java", "-Xms128m", "-Xmx768m", "-XX:+UseSerialGC", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={KAFKA_LOG4J}", "-cp", f"{libs}/*", main, *args]


def format_log(port: int, advertised_port: int) -> tuple[Path, int]:
    """A new, formatted broker log in a temp dir: (its directory, the controller's port).
    The directory outlives restarts of the broker, like a real broker's disk."""
    libs = fetch_kafka()
    data_dir = Path(tempfile.mkdtemp(prefix="lznews-kafka-"))
    controller_port = free_port()
    props = data_dir / "server.properties"
    props.write_text(_kafka_properties(port, controller_port, advertised_port, data_dir))
    subprocess.run(
        _java(libs, "kafka.tools.StorageTool", "format",
              "--cluster-id", CLUSTER_ID, "--config", str(props)),
        check=True, capture_output=True, timeout=120)
    return data_dir, controller_port


def broker_command(data_dir: Path) -> list[str]:
    """The broker on the log `format_log` made."""
    return _java(fetch_kafka(), "kafka.Kafka", str(data_dir / "server.properties"))
