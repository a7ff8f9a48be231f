"""`lznews-run`: the main job on one machine, without Docker.

Starts the embedded stack (unless --external), then the crawler, the normaliser and the
indexer as separate processes (each its own command, as in production), shows a live summary
scraped from their /metrics, and on Ctrl-C stops everything it started. `--offline` serves the
bundled constructed fixture mirror and points the crawler at it, so the whole pipeline can be
watched working without internet.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from lznews_common.settings import env_file, load_settings
from lznews_common.topics import prepare_topics
from lznews_devstack.processes import die_with_parent, free_port
from lznews_devstack.stack import STATE_DIR, LocalStack, write_env_file

BIN = Path(sys.executable).parent
MIRROR_ROOT = Path("fixtures/mirror")


@dataclass
class Child:
    name: str
    argv: list[str]
    metrics_port: int | None
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            # Own session: the terminal's Ctrl-C reaches lznews-run alone, which stops the
            # services one by one and the stack last; die_with_parent covers a kill -9.
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                         env=self.env, preexec_fn=die_with_parent,
                                         start_new_session=True)

    restarts: int = 0

    def state(self) -> str:
        if self.proc is None:
            return "not started"
        code = self.proc.poll()
        state = "running" if code is None else f"exited {code}"
        return state + (f", restarted {self.restarts}x" if self.restarts else "")

    def revive(self) -> None:
        """Like any supervisor: a service that exited is started again."""
        if self.proc is not None and self.proc.poll() is not None:
            self.restarts += 1
            self.start()

    def stop(self, timeout_s: float = 20.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def scrape(port: int | None) -> dict[str, float]:
    """{metric name: sum over its label sets} from a service's /metrics."""
    if port is None:
        return {}
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
            text = resp.read().decode()
    except OSError:
        return {}
    totals: dict[str, float] = {}
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})? (\S+)$", line)
        if m:
            totals[m.group(1)] = totals.get(m.group(1), 0.0) + float(m.group(2))
    return totals


SUMMARY = (
    # (label, service, metric)
    ("pages fetched", "crawler", "lznews_crawler_pages_fetched_total"),
    ("raw pages published", "crawler", "lznews_crawler_published_total"),
    ("pages normalised", "normalizer", "lznews_normalizer_pages_in_total"),
    ("articles emitted", "normalizer", "lznews_normalizer_articles_out_total"),
    ("duplicates", "normalizer", "lznews_normalizer_duplicates_total"),
    ("documents indexed", "indexer", "lznews_indexer_documents_total"),
    ("indexer lag", "indexer", "lznews_indexer_consumer_lag"),
    ("watch matches", "watcher", "lznews_watch_matches_total"),
    ("alerts delivered", "alert-sink", "lznews_alert_deliveries_total"),
)


def summary_table(children: list[Child], started: float, offline: bool = False) -> Table:
    metrics = {c.name: scrape(c.metrics_port) for c in children}
    elapsed = time.monotonic() - started
    table = Table(title=f"lznews — running {elapsed:,.0f} s  (Ctrl-C stops)")
    published = metrics.get("crawler", {}).get("lznews_crawler_published_total", 0)
    if not offline and not published and elapsed > 30:
        table.caption = ("nothing published yet: no route to the sites? "
                         "`make run OFFLINE=1` crawls the bundled mirror")
    table.add_column("what")
    table.add_column("value", justify="right")
    for label, service, name in SUMMARY:
        table.add_row(label, f"{metrics.get(service, {}).get(name, 0):,.0f}")
    dead = sum(m.get("lznews_dead_letters_total", 0) for m in metrics.values())
    table.add_row("dead letters", f"{dead:,.0f}")
    for child in children:
        table.add_row(f"[dim]{child.name}[/dim]", f"[dim]{child.state()}[/dim]")
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lznews-run", description=__doc__.splitlines()[0])
    parser.add_argument("--offline", action="store_true",
                        help="crawl the bundled fixture mirror instead of the real sites")
    parser.add_argument("--external", action="store_true",
                        help="use the Kafka and search servers from the LZNEWS_* settings")
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR)
    parser.add_argument("--duration", type=float, default=None,
                        help="stop after this many seconds (default: until Ctrl-C)")
    args = parser.parse_args(argv)
    console = Console()
    logs = args.state_dir / "logs"

    stack: LocalStack | None = None
    if not args.external:
        console.print("starting the embedded stack (Tansu, osmem-server) …")
        stack = LocalStack(state_dir=args.state_dir).start()
        os.environ.update(stack.env())
        # lznews-search and friends in another terminal find the stack through this file.
        write_env_file(stack.env(), env_file())
    env = dict(os.environ)
    settings = load_settings()
    prepare_topics(settings)

    children: list[Child] = []
    if args.offline:
        mirror_port = free_port()
        children.append(Child("mirror", [str(BIN / "python"), "-m", "lznews_devstack.mirror",
                                         "--port", str(mirror_port), "--root", str(MIRROR_ROOT)],
                              None, env, logs / "mirror.log"))
        env = env | {"LZNEWS_CRAWLER_HOST_MAP": f"*=127.0.0.1:{mirror_port}",
                     "LZNEWS_CRAWLER_ALLOW_PRIVATE": "true"}
    ports = {name: free_port() for name in
             ("crawler", "normalizer", "indexer", "watcher", "alert-sink")}
    children += [
        Child("crawler", [str(BIN / "lznews-crawler"), "crawl"], ports["crawler"],
              env | {"LZNEWS_CRAWLER_METRICS_PORT": str(ports["crawler"]),
                     "LZNEWS_CRAWLER_STATE_DIR": str(args.state_dir / "crawler")},
              logs / "crawler.log"),
        Child("normalizer", [str(BIN / "lznews-normalizer")], ports["normalizer"],
              env | {"LZNEWS_NORMALIZER_METRICS_PORT": str(ports["normalizer"]),
                     "LZNEWS_NORMALIZER_DATA_DIR": str(args.state_dir / "normalizer")},
              logs / "normalizer.log"),
        Child("indexer", [str(BIN / "lznews-indexer")], ports["indexer"],
              env | {"LZNEWS_INDEXER_METRICS_PORT": str(ports["indexer"])},
              logs / "indexer.log"),
        # Policy watch: saved searches (`lznews-watch add`) alert on new matching articles;
        # alerts go to daily Markdown digests, and to LZNEWS_WATCH_WEBHOOK_URL when it is set.
        Child("watcher", [str(BIN / "lznews-watcher")], ports["watcher"],
              env | {"LZNEWS_WATCHER_METRICS_PORT": str(ports["watcher"])},
              logs / "watcher.log"),
        Child("alert-sink", [str(BIN / "lznews-alert-sink"), "--digest",
                             str(args.state_dir / "digests")], ports["alert-sink"],
              env | {"LZNEWS_ALERT_SINK_METRICS_PORT": str(ports["alert-sink"])},
              logs / "alert-sink.log"),
    ]
    if args.offline:
        # Two saved searches, so the demo shows alerts as the mirror's articles arrive.
        demo = (["科技创新", "--query", "科技创新"],
                ["市政府办公厅文件", "--doc-number", "兰政办发"])
        # Watches live beside the article index, so create that (idempotently) first.
        commands = [[str(BIN / "lznews-indexer"), "--bootstrap-only"]]
        commands += [[str(BIN / "lznews-watch"), "add", *argv] for argv in demo]
        for argv in commands:
            done = subprocess.run(argv, env=env, capture_output=True, text=True)
            if done.returncode:
                console.print(f"[yellow]{' '.join(argv[1:])} failed: "
                              f"{done.stderr.strip()[-200:]}[/yellow]")
    for child in children:
        child.start()

    console.print(f"logs: {logs}/  ·  search: [bold]{BIN / 'lznews-search'} 兰州[/bold]")
    for name, port in ports.items():
        console.print(f"  {name:<10} http://127.0.0.1:{port}/metrics  /healthz")
    console.print(f"watches: {BIN / 'lznews-watch'} add NAME --query 科技  ·  digests: "
                  f"{args.state_dir / 'digests'}/")
    started = time.monotonic()
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    try:
        with Live(summary_table(children, started, args.offline), console=console,
                  refresh_per_second=1, transient=False) as live:
            while not stopping:
                if args.duration is not None and time.monotonic() - started > args.duration:
                    break
                time.sleep(2)
                for child in children:
                    child.revive()
                live.update(summary_table(children, started, args.offline))
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping …")
        for child in reversed(children):
            child.stop()
        if stack is not None:
            stack.stop()
            env_file().unlink(missing_ok=True)
    console.print("stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
