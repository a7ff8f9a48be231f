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
from dataclasses import dataclass
from typing import Any

import faust
from kafka import TopicPartition

from lznews_common import kafka
from lznews_common.deadletter import letter_key, max_inline_bytes
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
from lznews_common.startup import one_line_errors, prepare_topics_when_reachable
from lznews_common.topics import ARTICLES, RAW_PAGES
from lznews_common.topics import DEAD_LETTERS as DEAD_LETTERS_TOPIC
from lznews_common.urls import is_http_url
from lznews_normalizer.bounds import MAX_PAGE_BYTES
from lznews_normalizer.budget import OverBudget, PageBudget
from lznews_normalizer.deduplicator import Deduplicator
from lznews_normalizer.diagnostics import faust_state, task_stacks
from lznews_normalizer.errors import OffContract, StageError
from lznews_normalizer.gaps import GapGuard
from lznews_normalizer.stall import StallWatch

log = logging.getLogger(__name__)

APP_ID = "lznews-normalizer"  # with the topic prefix: the consumer group and changelog names


class Outcome:
    ARTICLE = "article"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"  # after a gap in the input offsets: delivered again after a seek
    DEAD = "dead-letter"


# A raw page's JSON carries its body in base64 (4/3 of it) beside a few small fields.
MAX_RECORD_BYTES = MAX_PAGE_BYTES * 4 // 3 + 64 * 1024
MAX_KEY_CHARS = 4096  # a canonical URL; browsers and servers refuse far shorter ones


class Halted(Exception):
    """An output that cannot be written: the event stays unacknowledged (nothing is committed
    past it) and /healthz fails with the reason until the worker is restarted."""


@dataclass
class WorkerState:
    """What /healthz says beyond Faust's own state."""

    halted: str | None = None
    crashed: str | None = None  # the agent's last crash, cleared by the next handled event
    crashes: int = 0
    placed: bool = False  # the event in hand reached articles or dead letters


def _key_problem(key: bytes | None) -> str | None:
    """Why a raw-pages key cannot be the page's canonical URL (None: it can, or is absent)."""
    if not key:
        return None
    try:
        text = key.decode("utf-8")
    except UnicodeDecodeError:
        return "the key is not UTF-8"
    if len(text) > MAX_KEY_CHARS:
        return f"the key is {len(text)} characters long (over {MAX_KEY_CHARS})"
    if not is_http_url(text):
        return "the key is not an absolute http(s) URL without control characters"
    return None


def _dead_letter(stage: str, exc: BaseException | str, event: faust.types.EventT,
                 max_inline: int, error_type: str | None = None) -> DeadLetter:
    msg = event.message
    letter = DeadLetter.build(stage=stage, error=exc, value=event.value, topic=msg.topic,
                              partition=msg.partition, offset=msg.offset, error_type=error_type,
                              max_inline_bytes=max_inline)
    DEAD_LETTERS.labels("normalizer", letter.stage, letter.error_type).inc()
    log.warning("dead-letter %s/%s@%s stage=%s type=%s: %s", msg.topic, msg.partition,
                msg.offset, stage, letter.error_type, letter.error[:300])
    return letter


def _observe(article: Article, timings: dict[str, float]) -> None:
    for stage, seconds in timings.items():
        NORMALIZER_STAGE_LATENCY.labels(stage).observe(seconds)
    for kind, values in article.entities:  # (field, value) pairs, in field order
        NORMALIZER_ENTITIES.labels(kind).observe(len(values))
    for counter, value in article.quality.items():
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
    state = WorkerState()
    max_inline = max_inline_bytes(s)
    budget: PageBudget | None = None  # started on the first page, in the running worker

    async def send(topic: faust.TopicT, key: bytes | None, value: bytes) -> None:
        fut = await topic.send(key=key, value=value)
        await fut  # the Kafka acknowledgement, before the event is acked

    async def dead_letter(event: faust.types.EventT, stage: str, exc: BaseException | str,
                          error_type: str | None = None) -> str:
        letter = _dead_letter(stage, exc, event, max_inline, error_type)
        await place(event, dead, letter_key(event.key), letter.to_bytes(), "dead letter")
        return Outcome.DEAD

    async def place(event: faust.types.EventT, topic: faust.TopicT, key: bytes | None,
                    value: bytes, what: str) -> None:
        try:
            await send(topic, key, value)
        except Exception as err:  # the producer gave up (it retries what may pass itself)
            msg = event.message
            raise Halted(f"{what} for {msg.topic}/{msg.partition}@{msg.offset} not "
                         f"written: {err!r}") from err
        state.placed = True

    async def normalise(raw: RawPage, key: bytes) -> tuple[Article, dict[str, float]]:
        nonlocal budget
        if budget is None:
            budget = PageBudget(s.normalizer_page_timeout_s, s.normalizer_page_memory_mb)
        return await budget.normalize(raw, key.decode("utf-8") if key else None)

    async def handle(event: faust.types.EventT) -> str:
        watch.progress()
        state.placed = False
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
        size = len(event.value or b"")
        if size > MAX_RECORD_BYTES:  # not parsed at all: its reference goes to dead letters
            return await dead_letter(event, "schema", f"raw page record of {size} bytes is "
                                     f"over the {MAX_RECORD_BYTES}-byte limit", "too_large")
        bad_key = _key_problem(key)
        if bad_key:
            return await dead_letter(event, "schema", bad_key, "InvalidKey")
        try:
            raw = RawPage.parse(event.value)
        except MessageError as exc:
            return await dead_letter(event, "schema", exc)
        NORMALIZER_IN.labels(raw.site).inc()
        try:
            article, timings = await normalise(raw, key)
        except StageError as exc:
            return await dead_letter(event, exc.stage, exc)
        except OverBudget as exc:
            log.error("%s: %s", raw.url, exc)
            return await dead_letter(event, "normalize", exc, exc.error_type)
        except OffContract as exc:  # the pipeline produced something off-contract: a bug
            return await dead_letter(event, "output", exc)
        except Exception as exc:  # never stop the worker on one page
            log.exception("normalising %s failed", raw.url)
            return await dead_letter(event, "normalize", exc)
        verdict = dedup.check(article)
        if verdict.emit:
            value = article.to_bytes()
            if len(value) > s.kafka_max_request_bytes:
                return await dead_letter(event, "output", f"article of {len(value)} bytes is "
                                         "over the producer's limit", "too_large")
            await place(event, articles, article.id.encode(), value, "article")
            NORMALIZER_OUT.labels(article.site).inc()
            _observe(article, timings)
        else:
            NORMALIZER_DUPLICATES.labels(verdict.kind).inc()
            log.info("%s duplicate of %s (%s): %s", verdict.kind, verdict.duplicate_of,
                     verdict.distance, article.url)
        dedup.record(article, verdict)
        return Outcome.ARTICLE if verdict.emit else Outcome.DUPLICATE

    async def halt(reason: str) -> None:
        """Never returns: the event is not acknowledged, so no offset passes it."""
        log.error("consumption stopped: %s", reason)
        state.halted = reason
        await asyncio.Event().wait()

    @app.agent(raw_topic, name="normalize-pages")
    async def normalize_pages(stream: faust.StreamT) -> None:
        async for event in stream.events():
            try:
                await handle(event)
            except Halted as exc:
                await halt(str(exc))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                state.crashes += 1
                state.crashed = f"{type(exc).__name__}: {exc}"[:500]
                log.exception("the agent crashed on %s/%s@%s", event.message.topic,
                              event.message.partition, event.message.offset)
                if not state.placed:
                    # Faust would acknowledge the event on the way out: lost.
                    await halt(f"an event reached no output: {state.crashed}")
                # Its output is durable: Faust restarts the agent, and health says so until an
                # event gets through again (a changelog whose partitions no longer match the
                # input's fails every table write, for example).
                raise
            state.crashed = None

    @app.timer(interval=10.0)
    async def stall_check() -> None:
        mine = {TopicPartition(tp.topic, tp.partition) for tp in app.consumer.assignment()
                if tp.topic == raw_topic.get_topic_name()}
        if not mine or app.rebalancing or app.in_recovery or state.halted:
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
    app.lznews_state = state  # type: ignore[attr-defined]
    return app


def _health(app: faust.App) -> tuple[bool, dict[str, Any]]:
    consumer = app.consumer if app.started else None
    assigned = sorted(str(tp) for tp in consumer.assignment()) if consumer else []
    stalled = app.lznews_watch.stalled  # type: ignore[attr-defined]
    state: WorkerState = app.lznews_state  # type: ignore[attr-defined]
    ok = bool(app.started) and not stalled and not state.halted and not state.crashed
    return ok, {"assigned": assigned, "stalled": stalled, "halted": state.halted,
                "agent_crashed": state.crashed, "agent_crashes": state.crashes}


@one_line_errors("lznews-normalizer")
def main(argv: list[str] | None = None) -> int:
    """`lznews-normalizer`: ensure topics, serve /metrics, run the Faust worker."""
    s = load_settings()
    setup_logging(s)
    # Topics first, with the partition count the tables' changelogs must match.
    prepare_topics_when_reachable(s)
    app = create_app(s)
    MetricsServer(s.metrics_host, s.metrics_port or s.normalizer_metrics_port,
                  lambda: _health(app)).start()
    sys.argv = ["lznews-normalizer", "worker", "--without-web", "--loglevel",
                s.log_level.lower(), *(argv if argv is not None else sys.argv[1:])]
    app.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
