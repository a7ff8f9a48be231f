"""The embedded local stack: a Kafka broker and osmem-server (OpenSearch protocol).

The broker is Apache Kafka itself (KRaft, one node, on the JVM: apache_kafka.py) where Java and
Maven are installed, and otherwise Tansu (tansu.py); `LZNEWS_STACK_KAFKA=auto|apache|tansu`
chooses (server.py). `lznews-stack up|down|status` (cli.py) runs the stack for people;
`LocalStack` gives pytest its session fixtures and `lznews-run` its servers. Both start the
servers on 127.0.0.1 with free ports, wait until each really answers (a Kafka metadata round
trip, GET / on the search server), write the connection settings to the env file that
`lznews_common.settings` reads, and stop what they started by pid.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lznews_devstack.processes import free_port
from lznews_devstack.server import Server, choose_kafka

STATE_DIR = Path(".lznews")

# Settings every local run gets. osmem answers 406 to Elasticsearch's versioned media types
# (../shared/LOCAL-STACK.md). A 6 s consumer session lets a killed service's partitions move
# within seconds in the drills (on Tansu it is also needed: it holds JoinGroup for half of it).
LOCAL_SETTINGS = {
    "LZNEWS_ES_FLAVOR": "plain-json",
    "LZNEWS_KAFKA_SESSION_TIMEOUT_MS": "6000",
    "LZNEWS_KAFKA_HEARTBEAT_INTERVAL_MS": "2000",
}


def write_env_file(env: dict[str, str], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k}={v}\n" for k, v in sorted(env.items())))


@dataclass
class LocalStack:
    state_dir: Path = STATE_DIR
    die_with_parent: bool = True
    kafka_kind: str = ""  # apache | tansu; default: choose_kafka()
    kafka: Server | None = None
    search: Server | None = None

    def start(self) -> LocalStack:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        kind = choose_kafka(self.kafka_kind or None)
        self.kafka_kind = kind
        self.kafka = Server("kafka", free_port(), self.state_dir / f"{kind}.log",
                            self.die_with_parent, kind=kind)
        self.search = Server(
            "search", free_port(), self.state_dir / "osmem.log", self.die_with_parent
        )
        try:
            self.kafka.start()
            self.search.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for server in (self.search, self.kafka):
            if server is not None:
                server.cleanup()

    def env(self) -> dict[str, str]:
        assert self.kafka and self.search
        return {
            "LZNEWS_KAFKA_BOOTSTRAP": self.kafka.address,
            "LZNEWS_ES_URL": self.search.address,
            "LZNEWS_STACK_KAFKA": self.kafka.kind,
            **LOCAL_SETTINGS,
        }

    def pids(self) -> dict[str, int | None]:
        return {
            "kafka": self.kafka.pid if self.kafka else None,
            "search": self.search.pid if self.search else None,
        }
