"""The embedded local stack: a Kafka broker and osmem-server (OpenSearch protocol).

`lznews-stack up` starts it detached (it outlives the command), writes the connection settings
to the env file every lznews command reads and its pids to <state dir>/stack.json; `down` stops
those pids; `status` says whether each server is alive and answering; `fetch-kafka` resolves
Apache Kafka's jars (make install runs it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import urllib.request
from pathlib import Path

from lznews_common.settings import DEFAULT_ENV_FILE
from lznews_devstack.processes import StackError, pid_alive, stop_pid
from lznews_devstack.server import KAFKA_KINDS, kafka_metadata_roundtrip, kafka_note
from lznews_devstack.stack import STATE_DIR, LocalStack, write_env_file


def _state_file(state_dir: Path) -> Path:
    return state_dir / "stack.json"


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
