"""The Faust worker: raw-pages -> normalise -> dedup -> articles; failures -> dead-letters.

Delivery is at-least-once: an event is acknowledged (and its offset becomes committable) only
after its article or dead letter was acknowledged by Kafka, and the dedup tables are written
after that too, so a crash re-processes instead of losing. Re-processing is harmless: the
article id is stable and the index is idempotent by id.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import faust
from kafka import TopicPartition

from lznews_common import kafka
from lznews_common.httpserver import MetricsServer
from lznews_common.logs import setup_logging
from lznews_common.metrics import (
    DEAD_LETTERS,
    NORMALIZER_CLEANING,
    NORMALIZER_DUPLICATES,
    NORMALIZER_ENTITIES,
    NORMALIZER_IN,
    NORMALIZER_INPUT_GAPS,
    NORMALIZER_OUT,
    NORMALIZER_STAGE_LATENCY,
    NORMALIZER_STALLS,
)
from lznews_common.models import Article, DeadLetter, MessageError, RawPage
from lznews_common.settings import Settings, load_settings
from lznews_common.topics import ARTICLES, RAW_PAGES, prepare_topics
from lznews_common.topics import DEAD_LETTERS as DEAD_LETTERS_TOPIC
from lznews_normalizer.deduplicator import Deduplicator
from lznews_normalizer.diagnostics import faust_state, task_stacks
from lznews_normalizer.errors import StageError
from lznews_normalizer.gaps import GapGuard
from lznews_normalizer.pipeline import normalize
from lznews_normalizer.stall import StallWatch

log = logging.getLogger(__name__)

APP_ID = "lznews-normalizer"  # with the topic prefix: the consumer group and changelog names


class Outcome:
    ARTICLE = "article"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"  # after a gap in the input offsets: delivered again after a seek
    DEAD = "dead-letter"


def _dead_letter(stage: str, exc: BaseException, event: faust.types.EventT) -> DeadLetter:
    msg = event.message
    letter = DeadLetter.build(stage=stage, error=exc, value=event.value, topic=msg.topic,
                              partition=msg.partition, offset=msg.offset)
    DEAD_LETTERS.labels("normalizer", letter.stage, letter.error_type).inc()
    log.warning("dead-letter %s/%s@%s stage=%s: %s", msg.topic, msg.partition, msg.offset,
                stage, letter.error[:300])
    return letter


def _observe(article: dict[str, Any], timings: dict[str, float]) -> None:
    for stage, seconds in timings.items():
        NORMALIZER_STAGE_LATENCY.labels(stage).observe(seconds)
    for kind, values in article["entities"].items():
        NORMALIZER_ENTITIES.labels(kind).observe(len(values))
    for counter, value in article["quality"].items():
        if value:
            NORMALIZER_CLEANING.labels(counter).inc(value)


def create_app(s: Settings) -> faust.App:
    app = faust.App(
        s.topic(APP_ID),  # a prefixed deployment gets its own group and tables
        **kafka.faust_config(s),
        store="memory://",  # tables are rebuilt from their changelog topics on start
        datadir=s.normalizer_data_dir,
        topic_partitions=s.topic_partitions,
        topic_replication_factor=s.topic_replication,
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
        web_port=s.normalizer_web_port,
    )
    raw_topic = app.topic(s.topic(RAW_PAGES), key_serializer="raw", value_serializer="raw",
                          partitions=s.topic_partitions)
    articles = app.topic(s.topic(ARTICLES), key_serializer="raw", value_serializer="raw")
    dead = app.topic(s.topic(DEAD_LETTERS_TOPIC), key_serializer="raw", value_serializer="raw")
    # Every worker reads all of it, since copies of a story arrive on any partition. (A
    # partitioned by-URL table would suffice for re-fetches, but after a kill -9 its recovery
    # stalled the stream on the local broker, whose end offsets are wrong; this one recovers.)
    fingerprints = app.GlobalTable("fingerprints", default=None, key_type=str,
                                   partitions=s.topic_partitions)
    dedup = Deduplicator(fingerprints, max_distance=s.normalizer_near_duplicate_bits)
    watch = StallWatch(s, s.topic(APP_ID), s.normalizer_stall_s)
    gaps = GapGuard(s, s.topic(APP_ID))

    @app.on_partitions_revoked.connect
    async def forget_revoked(sender: Any, revoked: Any, **_: Any) -> None:
        gaps.forget(TopicPartition(tp.topic, tp.partition) for tp in revoked)
    # One thread: normalising is CPU-bound and must not stall the event loop's heartbeats.
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="normalize")

    async def send(topic: faust.TopicT, key: bytes | None, value: bytes) -> None:
        fut = await topic.send(key=key, value=value)
        await fut  # the Kafka acknowledgement, before the event is acked

    async def handle(event: faust.types.EventT) -> str:
        watch.progress()
        msg = event.message
        tp = TopicPartition(msg.topic, msg.partition)
        if not gaps.known(tp):
            await asyncio.get_running_loop().run_in_executor(None, gaps.start, [tp])
        admitted = gaps.admit(tp, msg.offset)
        if admitted == "gap":
            admitted = await asyncio.get_running_loop().run_in_executor(
                None, gaps.resolve, tp, msg.offset)
            if admitted == "seek":
                NORMALIZER_INPUT_GAPS.inc()
                await app.consumer.seek(msg.tp, gaps.expected[tp])
        if admitted != "handle":
            return Outcome.SKIPPED
        key = event.key
        try:
            raw = RawPage.parse(event.value)
        except MessageError as exc:
            await send(dead, key, _dead_letter("schema", exc, event).to_bytes())
            return Outcome.DEAD
        NORMALIZER_IN.labels(raw.site).inc()
        timings: dict[str, float] = {}
        try:
            doc = await asyncio.get_running_loop().run_in_executor(
                executor, lambda: normalize(raw.model_dump(mode="json", by_alias=True), timings,
                                            canonical=key.decode("utf-8", "replace") if key
                                            else None))
            article = Article.parse(doc)
        except StageError as exc:
            await send(dead, key, _dead_letter(exc.stage, exc, event).to_bytes())
            return Outcome.DEAD
        except MessageError as exc:  # the pipeline produced something off-contract: a bug
            await send(dead, key, _dead_letter("output", exc, event).to_bytes())
            return Outcome.DEAD
        except Exception as exc:  # never stop the worker on one page
            log.exception("normalising %s failed", raw.url)
            await send(dead, key, _dead_letter("normalize", exc, event).to_bytes())
            return Outcome.DEAD
        verdict = dedup.check(doc)
        if verdict.emit:
            await send(articles, article.id.encode(), article.to_bytes())
            NORMALIZER_OUT.labels(article.site).inc()
            _observe(doc, timings)
        else:
            NORMALIZER_DUPLICATES.labels(verdict.kind).inc()
            log.info("%s duplicate of %s (%s): %s", verdict.kind, verdict.duplicate_of,
                     verdict.distance, article.url)
        dedup.record(doc, verdict)
        return Outcome.ARTICLE if verdict.emit else Outcome.DUPLICATE

    @app.agent(raw_topic, name="normalize-pages")
    async def normalize_pages(stream: faust.StreamT) -> None:
        async for event in stream.events():
            await handle(event)

    @app.timer(interval=10.0)
    async def stall_check() -> None:
        mine = {TopicPartition(tp.topic, tp.partition) for tp in app.consumer.assignment()
                if tp.topic == raw_topic.get_topic_name()}
        if not mine or app.rebalancing or app.in_recovery:
            # Idle by design: nothing assigned, or tables still being rebuilt (a long recovery
            # after a scale-up is work, not a stall).
            watch.progress()
            return
        try:
            verdict = await asyncio.get_running_loop().run_in_executor(None, watch.check, mine)
        except Exception as exc:  # the check itself failing proves nothing
            log.warning("stall check failed: %s", exc)
            return
        if verdict == "ok":
            return
        NORMALIZER_STALLS.labels(verdict).inc()
        try:
            log.error("consumer at the stall:\n%s", faust_state(app))
        except Exception as exc:  # diagnostics only: reach into Faust's internals
            log.error("consumer state unavailable: %r", exc)
        if verdict == "rewind":
            # Not Consumer.perform_seek: it leaves a partition without a committed offset where
            # it is, and that is where dropped records were seen.
            log.error("seeking the input back to %s", watch.resume_at)
            for tp in app.consumer.assignment():
                offset = watch.resume_at.get(TopicPartition(tp.topic, tp.partition))
                if offset is not None:
                    await app.consumer.seek(tp, offset)
            return
        log.error("tasks at the stall:\n%s", task_stacks())
        log.error("exiting so that the supervisor restarts this worker")
        logging.shutdown()
        os._exit(75)  # EX_TEMPFAIL; safe: offsets only ever follow acknowledged output

    app.lznews_watch = watch  # type: ignore[attr-defined]
    return app


def _health(app: faust.App) -> tuple[bool, dict[str, Any]]:
    consumer = app.consumer if app.started else None
    assigned = sorted(str(tp) for tp in consumer.assignment()) if consumer else []
    stalled = app.lznews_watch.stalled  # type: ignore[attr-defined]
    return bool(app.started) and not stalled, {"assigned": assigned, "stalled": stalled}


def _ensure_topics_with_retry(s: Settings, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            prepare_topics(s)
            return
        except Exception as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("Kafka not ready (%s); retrying", exc)
            time.sleep(2)


def main(argv: list[str] | None = None) -> None:
    """`lznews-normalizer`: ensure topics, serve /metrics, run the Faust worker."""
    s = load_settings()
    setup_logging(s)
    # Topics first, with the partition count the tables' changelogs must match.
    _ensure_topics_with_retry(s)
    app = create_app(s)
    MetricsServer(s.metrics_host, s.metrics_port or s.normalizer_metrics_port,
                  lambda: _health(app)).start()
    sys.argv = ["lznews-normalizer", "worker", "--without-web", "--loglevel",
                s.log_level.lower(), *(argv if argv is not None else sys.argv[1:])]
    app.main()


if __name__ == "__main__":
    main()
