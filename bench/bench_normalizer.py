"""Normaliser throughput on the fixture corpus: pages/s in one process, share of time per stage.

    python bench/bench_normalizer.py [--pages 300]

Warm-up (jieba dictionary load, OpenCC, gazetteer) is excluded and reported separately.
"""

from __future__ import annotations

import argparse
import base64
import json
import time
from collections import defaultdict
from pathlib import Path

from lznews_normalizer.errors import StageError
from lznews_normalizer.pipeline import normalize

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "articles"


def corpus() -> list[dict]:
    pages = json.loads((FIXTURES / "manifest.json").read_text("utf-8"))["pages"]
    out = []
    for p in pages:
        out.append({
            "url": p["url"], "final_url": p["url"], "site": p["site"],
            "fetched_at": "2026-01-01T00:00:00Z", "http_status": 200,
            "headers": {"content-type": p["content_type"]},
            "body_b64": base64.b64encode((FIXTURES / p["file"]).read_bytes()).decode("ascii"),
            "crawl_id": "bench",
        })
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pages", type=int, default=300)
    args = ap.parse_args()
    pages = corpus()

    t0 = time.perf_counter()
    for raw in pages:  # warm-up: loads dictionaries once
        try:
            normalize(raw)
        except StageError:
            pass
    warm = time.perf_counter() - t0

    stages: dict[str, float] = defaultdict(float)
    done = rejected = 0
    size = 0
    start = time.perf_counter()
    for i in range(args.pages):
        raw = pages[i % len(pages)]
        size += len(raw["body_b64"]) * 3 // 4
        try:
            normalize(raw, stages)
            done += 1
        except StageError:
            rejected += 1
    total = time.perf_counter() - start

    n = done + rejected
    print(f"normaliser benchmark: {n} pages ({len(pages)} fixtures repeated), one process")
    print(f"  warm-up (first pass, dictionaries): {warm:.2f} s")
    print(f"  total {total:.2f} s  ->  {n / total:.1f} pages/s, {size / total / 1e6:.2f} MB/s, "
          f"{1000 * total / n:.1f} ms/page ({done} articles, {rejected} rejected)")
    staged = sum(stages.values())
    for name, secs in sorted(stages.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<9} {100 * secs / staged:5.1f} %  {1000 * secs / n:6.2f} ms/page")


if __name__ == "__main__":
    main()
