"""End to end: the normaliser worker's throughput (raw-pages -> articles) and freshness (fetch
to searchable) under steady load, through the real `lznews-normalizer` and `lznews-indexer`
processes on a local stack of their own.

    .venv/bin/python bench/bench_e2e.py [--burst 300] [--rate 4] [--seconds 60]

Phase 1 puts --burst constructed pages on raw-pages at once and times the worker from its first
page in to its last article out. Phase 2 publishes --rate pages/s for --seconds, each stamped
with its fetch time, and polls the index for each one: the delay from fetched_at to the moment
a search finds it is the freshness a user sees (p50, p90, p99). Poll step 0.2 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures import synthetic  # noqa: E402
from lznews_common import kafka  # noqa: E402
from lznews_common.search import es_client  # noqa: E402
from lznews_common.settings import load_settings  # noqa: E402
from lznews_common.topics import RAW_PAGES, prepare_topics  # noqa: E402
from lznews_devstack.processes import free_port  # noqa: E402
from lznews_devstack.stack import LocalStack  # noqa: E402

BIN = Path(sys.executable).parent


def scrape(port: int, name: str) -> float:
    import re
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--burst", type=int, default=300)
    ap.add_argument("--rate", type=float, default=4.0, help="pages per second in phase 2")
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="lznews-bench-e2e-"))
    stack = LocalStack(state_dir=tmp).start()
    os.environ.update(stack.env())
    os.environ["LZNEWS_ENV_FILE"] = str(tmp / "absent.env")
    s = load_settings(topic_partitions=3)
    prepare_topics(s)
    ports = {"normalizer": free_port(), "indexer": free_port()}
    env = dict(os.environ, LZNEWS_TOPIC_PARTITIONS="3", LZNEWS_INDEXER_BULK_MAX_WAIT_S="0.5",
               LZNEWS_INDEXER_INDEX_REPLICAS="0", LZNEWS_METRICS_HOST="127.0.0.1",
               LZNEWS_NORMALIZER_DATA_DIR=str(tmp / "normalizer"),
               # Load pages recombine a small pool of paragraphs; only identical fingerprints
               # count as duplicates here, so every page is a story to index.
               LZNEWS_NORMALIZER_NEAR_DUPLICATE_BITS="0")
    procs = [subprocess.Popen([str(BIN / f"lznews-{name}")], env=env | {
        "LZNEWS_METRICS_PORT": str(port)}, stdout=open(tmp / f"{name}.log", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT) for name, port in ports.items()]
    producer = kafka.producer(s, linger_ms=20)
    try:
        # Phase 1: burst throughput of the normaliser worker.
        pages = synthetic.pages(args.burst)
        for page in pages:
            producer.send(s.topic(RAW_PAGES), key=page.url.encode(), value=page.to_bytes())
        producer.flush(60)
        first = last = None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            time.sleep(0.1)
            try:
                seen = scrape(ports["normalizer"], "lznews_normalizer_pages_in_total")
                done = sum(scrape(ports["normalizer"], m) for m in (
                    "lznews_normalizer_articles_out_total", "lznews_normalizer_duplicates_total",
                    "lznews_dead_letters_total"))
            except OSError:
                continue
            if seen and first is None:
                first = time.monotonic()
            if done >= args.burst:  # every page has its outcome (article, duplicate, dead)
                last = time.monotonic()
                break
        if first is None or last is None:
            raise SystemExit(f"the normaliser did not finish the burst; logs in {tmp}")
        out = scrape(ports["normalizer"], "lznews_normalizer_articles_out_total")
        rate = args.burst / (last - first)
        print(f"normaliser worker: {args.burst} pages in {last - first:.1f} s = {rate:.1f} pages/s "
              f"(raw-pages -> articles, one worker with its page process, Kafka acks included; "
              f"{out:.0f} articles, the rest duplicates)")

        # Phase 2: steady load, freshness as a searcher sees it.
        es = es_client(s)
        pending: dict[str, datetime] = {}
        delays: list[float] = []
        start = time.monotonic()
        sent = 0
        next_poll = 0.0
        while time.monotonic() - start < args.seconds or pending:
            now = time.monotonic()
            due = int((now - start) * args.rate) if now - start < args.seconds else sent
            for page in synthetic.pages(due - sent, seed=11, start=100_000 + sent,
                                        fetched_at=datetime.now(UTC)):
                producer.send(s.topic(RAW_PAGES), key=page.url.encode(), value=page.to_bytes())
                pending[page.url] = page.fetched_at
            sent = due
            producer.flush(10)
            if now >= next_poll and pending:
                next_poll = now + 0.2
                hits = es.search(index=s.es_alias, size=len(pending), source=["url"],
                                 query={"terms": {"url": list(pending)}})["hits"]["hits"]
                found = datetime.now(UTC)
                for hit in hits:
                    fetched = pending.pop(hit["_source"]["url"], None)
                    if fetched is not None:
                        delays.append((found - fetched).total_seconds())
            if time.monotonic() - start > args.seconds + 120:
                print(f"gave up on {len(pending)} pages not searchable 120 s after the load")
                break
            time.sleep(0.05)
        print(f"freshness under {args.rate:g} pages/s for {args.seconds:g} s ({len(delays)} "
              f"articles): p50 {statistics.median(delays):.2f} s, p90 {quantile(delays, .9):.2f} s,"
              f" p99 {quantile(delays, .99):.2f} s, max {max(delays):.2f} s")
        hist = scrape(ports["indexer"], "lznews_fetch_to_searchable_seconds_count")
        print(f"indexer freshness histogram observations: {hist:.0f}")
    finally:
        producer.close()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
        stack.stop()


if __name__ == "__main__":
    main()
