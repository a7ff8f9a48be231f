"""One stack server process (the Kafka broker or the search server), and which broker runs.

`LZNEWS_STACK_KAFKA=auto|apache|tansu` chooses the broker: Apache Kafka where Java and Maven are
installed and its jars resolve, else Tansu.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from lznews_common.settings import load_settings
from lznews_devstack import apache_kafka
from lznews_devstack.osmem import osmem_command, ping_search
from lznews_devstack.processes import StackError, die_with_parent, stop_pid
from lznews_devstack.tansu import tansu_command

KAFKA_KINDS = ("auto", "apache", "tansu")


def kafka_choice(preference: str | None = None) -> tuple[str, str]:
    """(apache or tansu, why Tansu) from LZNEWS_STACK_KAFKA. auto: Apache Kafka where Java and
    Maven are installed and its jars resolve, else Tansu. An explicit choice is never swapped."""
    preference = preference or load_settings().stack_kafka
    if preference not in KAFKA_KINDS:
        raise StackError(f"LZNEWS_STACK_KAFKA={preference!r}: expected one of {KAFKA_KINDS}")
    if preference != "auto":
        return preference, "chosen by LZNEWS_STACK_KAFKA"
    missing = apache_kafka.missing_jvm_tools()
    if missing:
        return "tansu", f"{' and '.join(missing)} not installed"
    try:
        apache_kafka.fetch_kafka()
    except (StackError, subprocess.TimeoutExpired) as exc:
        return "tansu", f"Apache Kafka's jars did not resolve: {exc}"
    return "apache", ""


def choose_kafka(preference: str | None = None) -> str:
    return kafka_choice(preference)[0]


def kafka_note(preference: str | None = None) -> str:
    """The one line that says which broker runs, and why when it is not the real one."""
    kind, why = kafka_choice(preference)
    if kind == "apache":
        return (f"Kafka: Apache Kafka {apache_kafka.kafka_version()} "
                "(KRaft, one node, on the JVM)")
    return f"Kafka: Tansu, the zero-JVM stand-in ({why}; see ../shared/LOCAL-STACK.md)"


def kafka_metadata_roundtrip(bootstrap: str, timeout_s: float = 3.0) -> list[str]:
    """A real Kafka Metadata request through kafka-python; returns the topic names."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    try:
        return list(admin.list_topics())
    finally:
        admin.close()


@dataclass
class Server:
    """One server process on a fixed port, restartable on the same port.

    name is "kafka" or "search"; kind is the program: "apache" or "tansu" for kafka (default:
    `choose_kafka()`), "osmem" for search. Apache Kafka keeps its log in a temp dir across
    restarts (like a real broker), removed by `cleanup()`; Tansu's memory storage does not."""

    name: str
    port: int
    log_path: Path
    die_with_parent: bool = True
    advertised_port: int | None = None  # Kafka only: a proxy in front of the broker
    kind: str = ""
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    pid: int | None = None
    controller_port: int | None = None
    data_dir: Path | None = None

    def __post_init__(self) -> None:
        if not self.kind:
            self.kind = choose_kafka() if self.name == "kafka" else "osmem"

    def command(self) -> list[str]:
        adv = self.advertised_port or self.port
        if self.kind == "apache":
            if self.data_dir is None:  # first start: a new, formatted log
                self.data_dir, self.controller_port = apache_kafka.format_log(self.port, adv)
            return apache_kafka.broker_command(self.data_dir)
        if self.kind == "tansu":
            return tansu_command(self.port, adv)
        return osmem_command(self.port)

    @property
    def address(self) -> str:
        if self.name == "kafka":
            return f"127.0.0.1:{self.advertised_port or self.port}"
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float | None = None) -> None:
        # A JVM broker needs longer than a native binary to answer the first time.
        timeout_s = timeout_s or (90.0 if self.kind == "apache" else 30.0)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = self.command()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent if self.die_with_parent else None,
                # Never in the caller's process group: a Ctrl-C there must not take the broker
                # down before the services that still talk to it have stopped.
                start_new_session=True,
            )
        self.pid = self.proc.pid
        self.wait_ready(timeout_s)

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise StackError(
                    f"{self.name} exited with {self.proc.returncode}; see {self.log_path}"
                )
            try:
                self.ping()
                return
            except Exception as exc:  # not up yet
                last = exc
                time.sleep(0.1)
        raise StackError(f"{self.name} did not answer on port {self.port} in {timeout_s}s: {last}")

    def ping(self) -> None:
        if self.name == "kafka":
            kafka_metadata_roundtrip(f"127.0.0.1:{self.port}")
        else:
            ping_search(self.port)

    def stop(self) -> None:
        if self.pid is not None:
            stop_pid(self.pid)
        if self.proc is not None:
            self.proc.wait(timeout=10)
        self.proc, self.pid = None, None

    def kill(self) -> None:
        """kill -9, for failure drills."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc is not None:
            self.proc.wait(timeout=10)
        self.proc, self.pid = None, None

    def cleanup(self) -> None:
        """Stop, and remove the broker's log: the end of this server."""
        self.stop()
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None
