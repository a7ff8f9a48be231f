"""The README's main command, offline: `lznews-run --offline` starts its own stack, the mirror,
the three pipeline services and the policy watch, shows the live summary, and stops everything
it started."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lznews_devstack.processes import pid_alive
from tests.support import wait_for

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.integration


def test_offline_main_job_indexes_and_stops_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LZNEWS_")}
    env |= {"LZNEWS_ENV_FILE": str(tmp_path / "stack.env"), "COLUMNS": "100"}
    proc = subprocess.run(
        [str(BIN / "lznews-run"), "--offline", "--duration", "45", "--state-dir",
         str(tmp_path / "state")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "stopped." in out
    for service in ("crawler", "normalizer", "indexer"):
        assert re.search(rf"{service}\s+http://127\.0\.0\.1:\d+/metrics", out)
    final = out[out.rindex("lznews — running"):]
    counts = {label: int(n.replace(",", "")) for label, n in
              re.findall(r"│ ([a-z ]+?)\s+│\s+([\d,]+) │", final)}
    assert counts["raw pages published"] >= 15
    assert counts["documents indexed"] >= 15
    assert counts["articles emitted"] >= counts["documents indexed"]  # may still be in flight
    # The offline demo's two saved searches fired and reached their daily digests.
    assert counts["watch matches"] >= 1 and counts["alerts delivered"] >= 1
    digests = list((tmp_path / "state" / "digests").glob("*/*.md"))
    assert digests and "兰州" in digests[0].read_text("utf-8")
    # Nothing it started is left running, and the env file it wrote for other commands is gone.
    logs = tmp_path / "state" / "logs"
    assert {p.name for p in logs.iterdir()} >= {"crawler.log", "normalizer.log", "indexer.log",
                                                "watcher.log", "alert-sink.log"}
    assert not (tmp_path / "stack.env").exists()
    marker = f"LZNEWS_ENV_FILE={tmp_path / 'stack.env'}".encode()
    assert not [p for p in processes_with(marker) if pid_alive(p)]


def processes_with(marker: bytes) -> list[int]:
    """Pids whose environment holds `marker` (everything lznews-run starts inherits it)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def test_ctrl_c_stops_everything(tmp_path: Path) -> None:
    """Ctrl-C as a terminal sends it: SIGINT to the whole foreground process group, children
    included, while the pipeline is busy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LZNEWS_")}
    env |= {"LZNEWS_ENV_FILE": str(tmp_path / "stack.env"), "COLUMNS": "100"}
    state = tmp_path / "state"
    with open(tmp_path / "run.out", "wb") as out:
        proc = subprocess.Popen([str(BIN / "lznews-run"), "--offline", "--state-dir", str(state)],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        indexer_log = state / "logs" / "indexer.log"
        wait_for(lambda: indexer_log.exists() and "bulk of" in indexer_log.read_text(), 180,
                 "the first bulk indexed")
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=90) == 0, (tmp_path / "run.out").read_text()[-3000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert "stopped." in (tmp_path / "run.out").read_text()
    # The broker and search server outlive the services: nobody loses a connection mid-stop.
    for log in (state / "logs").glob("*.log"):
        assert "Traceback" not in log.read_text(errors="replace"), log.name
    assert not (tmp_path / "stack.env").exists()
    marker = f"LZNEWS_ENV_FILE={tmp_path / 'stack.env'}".encode()
    assert not [p for p in processes_with(marker) if pid_alive(p)]
