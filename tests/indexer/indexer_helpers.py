"""Indexer test helpers: constructed lznews.article/1 messages, the worker as a real subprocess
(`lznews-indexer`, so kill -9 drills are real), committed-offset and index snapshots."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kafka import TopicPartition

from lznews_common import kafka
from lznews_common.models import Amount, Article, Entities, article_id
from lznews_common.settings import Settings
from lznews_common.topics import ARTICLES
from lznews_devstack.processes import free_port
from tests.support import settings_env, wait_for

BIN = Path(sys.executable).parent

# Constructed from the seed texts (simplified): titles, sentences, entities that really occur.
TITLES = [
    "兰州市以科技创新驱动城市竞争力跃升",
    "2020年兰州市科技工作会议召开",
    "我市全力推动兰白两区高质量发展",
    "驱动创新引擎 释放活力之源",
    "兰州市人民政府办公厅关于认真贯彻落实科技创新工作讲话精神的通知",
]
SENTENCES = [
    "近年来，兰州市科技局坚持科技创新和制度创新“双轮驱动”，持续深化科技体制机制改革。",
    "兰州市出台了《兰州市支持科技创新若干措施》等一系列政策和文件。",
    "2016年以来，兰州市科技局支持科技项目1556项，新增销售收入47.15亿元。",
    "兰州高新区兑现奖补资金8573.9万元，推动新型研发机构建设实现新成效。",
    "今年全市将发布企业技术需求1500项以上，技术合同年成交额力争达到135亿元。",
    "蘭州新区加快打造西部地区千亿级产业发展引领区，累计引进产业项目超过820个。",
    "全市将深化与在兰科研“新四军”的合作，提升科技成果源头供给质量。",
]
SITES = ["lzbs", "people_gansu", "lanzhou_gov", "xinhua_gansu"]


def make_article(
    i: int,
    *,
    fetched_at: datetime | None = None,
    title: str | None = None,
    body: str | None = None,
    quality: dict[str, int] | None = None,
    site: str | None = None,
    url: str | None = None,
) -> Article:
    url = url or f"http://www.lzbs.com.cn/lanzhounews/2025-04/{10 + i % 18:02d}/content_{i:06d}.htm"
    fetched = fetched_at or datetime(2025, 4, 20, 8, 0, tzinfo=UTC) + timedelta(minutes=i)
    published = datetime.fromisoformat("2025-04-01T09:00:00+08:00") + timedelta(hours=7 * i)
    text = body or "\n".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(4))
    gov = i % 5 == 4
    return Article(
        id=article_id(url),
        url=url,
        canonical_url=url,
        site=site or SITES[i % len(SITES)],
        title=title or f"{TITLES[i % len(TITLES)]}（{i}）",
        published_at=published,
        source="兰州日报" if i % 2 else "人民网-甘肃频道",
        authors=["华静"] if i % 3 == 0 else [],
        editors=["王旭伟"],
        doc_number=f"兰政办发〔2017〕{100 + i}号" if gov else None,
        body=text,
        original_script="hant" if i % 2 else "hans",
        fetched_at=fetched,
        normalized_at=fetched + timedelta(seconds=3),
        pipeline_version="test-1",
        entities=Entities(
            organizations=["兰州市科技局", "兰州高新区"][: 1 + i % 2],
            places=["兰州市", "甘肃省"],
            people=["王柠"] if i % 4 == 0 else [],
            policy_documents=["兰州市支持科技创新若干措施"],
            amounts=[
                Amount(text="47.15亿元", value_cny=4_715_000_000),
                Amount(text="8573.9万元", value_cny=85_739_000),
            ],
        ),
        quality=quality if quality is not None else {"pinyin_annotations": i % 3},
        content_hash=f"{i:064x}",
        simhash=f"{i:016x}",
    )


def produce(
    s: Settings, messages: list[tuple[bytes | None, bytes]]
) -> dict[TopicPartition, int]:
    """Write (key, value) pairs to the articles topic; returns end offset per partition."""
    producer = kafka.producer(s)
    ends: dict[TopicPartition, int] = {}
    try:
        futures = [producer.send(s.topic(ARTICLES), key=k, value=v) for k, v in messages]
        for f in futures:
            meta = f.get(timeout=30)
            tp = TopicPartition(meta.topic, meta.partition)
            ends[tp] = max(ends.get(tp, 0), meta.offset + 1)
    finally:
        producer.close()
    return ends


def as_messages(articles: list[Article]) -> list[tuple[bytes | None, bytes]]:
    return [(a.id.encode(), a.to_bytes()) for a in articles]


def committed(s: Settings, group: str) -> dict[TopicPartition, int]:
    return kafka.committed_offsets(s, group)


def wait_committed(
    s: Settings, expected: dict[TopicPartition, int], timeout_s: float = 60.0
) -> None:
    group = f"{s.topic_prefix}{s.indexer_group_id}"

    def done() -> bool:
        got = committed(s, group)
        return all(got.get(tp, -1) >= off for tp, off in expected.items())

    wait_for(done, timeout_s, f"group {group} to commit {expected}")


def snapshot(es: Any, alias: str) -> dict[str, tuple[int, int, dict[str, Any]]]:
    """id -> (_version, _seq_no, _source): everything a replay could change."""
    es.indices.refresh(index=alias)
    hits = es.search(
        index=alias, size=1000, version=True, seq_no_primary_term=True, query={"match_all": {}}
    )["hits"]["hits"]
    return {h["_id"]: (h["_version"], h["_seq_no"], h["_source"]) for h in hits}


class IndexerProcess:
    """`lznews-indexer` as a subprocess with its own metrics port."""

    def __init__(self, s: Settings, log_path: Path, *args: str) -> None:
        self.settings = s
        self.port = free_port()
        self.log_path = log_path
        env = os.environ | settings_env(s)
        env |= {"LZNEWS_METRICS_HOST": "127.0.0.1", "LZNEWS_METRICS_PORT": str(self.port)}
        self.log = open(log_path, "ab")  # noqa: SIM115 (closed in stop/kill)
        self.proc = subprocess.Popen(
            [str(BIN / "lznews-indexer"), *args],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def health(self) -> tuple[int, dict[str, Any]]:
        code, body = self.get("/healthz")
        return code, json.loads(body)

    def metric(self, name: str, **labels: str) -> float:
        """Sum of a sample over series matching the labels (0 when absent)."""
        _, text = self.get("/metrics")
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name) or line.startswith("#"):
                continue
            series, value = line.rsplit(" ", 1)
            if series.split("{", 1)[0] != name:
                continue
            if all(f'{k}="{v}"' in series for k, v in labels.items()):
                total += float(value)
        return total

    def wait_healthy(self, timeout_s: float = 60.0) -> None:
        def ok() -> bool:
            assert self.proc.poll() is None, f"indexer exited: {self.log_path.read_text()[-3000:]}"
            try:
                return self.health()[0] == 200
            except OSError:
                return False

        wait_for(ok, timeout_s, "indexer /healthz")

    def stop(self, timeout_s: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout_s)
        finally:
            self.log.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.log.close()




class FaultProxy:
    """An HTTP proxy in front of the real search server that refuses the first bulk requests
    with the given statuses (e.g. 429, 503), then forwards everything: fault injection, not a
    mock; every request that is not refused reaches the real server."""

    def __init__(self, upstream: str, bulk_faults: list[int]) -> None:
        import http.client
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlsplit

        self.faults = list(bulk_faults)
        self.refused: list[int] = []
        target = urlsplit(upstream)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                if self.path.split("?")[0].endswith("/_bulk") and outer.faults:
                    status = outer.faults.pop(0)
                    outer.refused.append(status)
                    payload = json.dumps(
                        {"error": {"type": "injected", "reason": "fault proxy"}, "status": status}
                    ).encode()
                    return self._reply(status, "application/json", payload)
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    ctype = resp.getheader("content-type") or "application/json"
                    self._reply(resp.status, ctype, data)
                finally:
                    conn.close()

            def _reply(self, status: int, ctype: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(data)))
                self.send_header("x-elastic-product", "Elasticsearch")
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any  # noqa: N815

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
