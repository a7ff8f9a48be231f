"""Hostile pages through the `lznews-normalize` CLI, as a user would run it: seconds and peak RSS.

    python bench/bench_hostile.py [--timeout 120] [--only NAME ...]

Each page of bench/hostile_corpus.py is written to a temporary directory and normalised by a
fresh CLI process; its wall time and peak resident memory (the child's rusage from wait4) are
printed with the outcome (article, not an article, failed stage). A plain article runs first:
the CLI's own start (dictionaries, models) is in every figure. The budget of tracker issue 14:
no page over 5 s or 500 MB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.hostile_corpus import hostile_pages, page, url_for  # noqa: E402

CLI = Path(sys.executable).with_name("lznews-normalize")
BUDGET_S, BUDGET_MB = 5.0, 500.0


def run_one(path: Path, url: str, timeout: float) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, outcome) of one CLI run in its own process."""
    err_path = path.with_suffix(".err")
    with err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([str(CLI), str(path), "--url", url],
                                stdout=subprocess.DEVNULL, stderr=err)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        # wait4 reports this child's own peak RSS (RUSAGE_CHILDREN is a maximum over all).
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - start
        killer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    rss_mb = usage.ru_maxrss / 1024
    if proc.returncode < 0 and took >= timeout:
        return took, rss_mb, f"TIMEOUT: killed after {timeout:.0f} s"
    return took, rss_mb, _outcome(proc.returncode, err_path.read_text("utf-8", "replace"))


def _outcome(code: int, err: str) -> str:
    if code == 0:
        return "article"
    line = err.strip().splitlines()[-1] if err.strip() else f"exit {code}"
    return line.removeprefix("lznews-normalize: ")[:110]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds before a run is killed")
    ap.add_argument("--only", nargs="*", default=None, help="page names to run")
    args = ap.parse_args()
    rows: list[tuple[str, float, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="lznews-hostile-") as tmp:
        plain = Path(tmp) / "plain.html"
        plain.write_text(page(), "utf-8")
        secs, rss, outcome = run_one(plain, url_for("plain"), args.timeout)
        print(f"  {'(a plain article)':<26} {plain.stat().st_size / 1e6:6.2f} MB {secs:7.2f} s "
              f"{rss:7.0f} MB  {outcome}", flush=True)
        for name, body in hostile_pages():
            if args.only and name not in args.only:
                continue
            path = Path(tmp) / f"{name}.html"
            path.write_bytes(body)
            secs, rss, outcome = run_one(path, url_for(name), args.timeout)
            rows.append((name, secs, rss, outcome))
            print(f"  {name:<26} {len(body) / 1e6:6.2f} MB {secs:7.2f} s {rss:7.0f} MB  {outcome}",
                  flush=True)
    if not rows:
        return 1
    worst_t = max(rows, key=lambda r: r[1])
    worst_m = max(rows, key=lambda r: r[2])
    print(f"hostile worst: {worst_t[1]:.1f} s ({worst_t[0]}), peak RSS {worst_m[2]:.0f} MB "
          f"({worst_m[0]}); budget {BUDGET_S:.0f} s / {BUDGET_MB:.0f} MB per page, "
          f"{len(rows)} pages")
    over = [r for r in rows if not (r[1] <= BUDGET_S and r[2] <= BUDGET_MB)]
    if over:
        print("over budget: " + ", ".join(r[0] for r in over))
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
