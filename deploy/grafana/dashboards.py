"""Writes the Grafana dashboards in deploy/grafana/dashboards/ from the panel lists in
deploy/grafana/boards/ (one module per dashboard), with grafanalib.

Run `python deploy/grafana/dashboards.py` after editing; tests/deploy checks the committed JSON
equals this output and that every query uses only metrics lznews_common.metrics exports. Panel
titles and descriptions are what docs/operations.md, "Dashboards", explains.
"""

from __future__ import annotations

import sys
from pathlib import Path

from boards import render  # run as a script, this file's folder is first on sys.path

OUT = Path(__file__).resolve().parent / "dashboards"


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text, encoding="utf-8")
        print(f"wrote {OUT / name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
