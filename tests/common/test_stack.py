"""`lznews-stack up|status|down` on real servers, and cleanup when the starter is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from lznews_devstack.processes import pid_alive

BIN = Path(sys.executable).parent


def _stack(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "lznews-stack"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env=_clean_env())


def _clean_env() -> dict[str, str]:
    """A user's environment: no LZNEWS_* from the test session."""
    return {k: v for k, v in os.environ.items() if not k.startswith("LZNEWS_")}


def test_up_status_down(tmp_path: Path) -> None:
    up = _stack("up", cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    state = json.loads(up.stdout)
    pids = state["pids"]
    try:
        assert state["running"] and state["answering"] == {"kafka": True, "search": True}
        env = (tmp_path / ".lznews/stack.env").read_text()
        assert f"LZNEWS_KAFKA_BOOTSTRAP={state['env']['LZNEWS_KAFKA_BOOTSTRAP']}" in env
        assert "LZNEWS_ES_FLAVOR=plain-json" in env
        # The services' settings read the env file from their working directory.
        out = subprocess.run(
            [sys.executable, "-c", "from lznews_common.settings import load_settings as l;"
             "s=l();print(s.kafka_bootstrap, s.es_url, s.kafka_session_timeout_ms)"],
            cwd=tmp_path, capture_output=True, text=True, check=True,
            env=_clean_env())
        assert out.stdout.split() == [state["env"]["LZNEWS_KAFKA_BOOTSTRAP"],
                                      state["env"]["LZNEWS_ES_URL"], "6000"]
        again = json.loads(_stack("up", cwd=tmp_path).stdout)  # idempotent: same servers
        assert again["pids"] == pids
        assert _stack("status", cwd=tmp_path).returncode == 0
    finally:
        down = _stack("down", cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    assert not any(pid_alive(p) for p in pids.values())
    assert not (tmp_path / ".lznews/stack.env").exists()
    assert _stack("status", cwd=tmp_path).returncode == 3


def test_servers_die_with_a_killed_starter(tmp_path: Path) -> None:
    code = ("import json,sys,time;from pathlib import Path;from lznews_devstack.stack import "
            "LocalStack;s=LocalStack(state_dir=Path(sys.argv[1])).start();"
            "print(json.dumps(s.pids()),flush=True);time.sleep(600)")
    starter = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)],
                               stdout=subprocess.PIPE, text=True)
    pids = json.loads(starter.stdout.readline())
    assert all(pid_alive(p) for p in pids.values())
    os.kill(starter.pid, signal.SIGKILL)
    starter.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids.values()):
        time.sleep(0.1)
    assert not any(pid_alive(p) for p in pids.values())
