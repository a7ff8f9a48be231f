"""Every input record is handled before anything commits over it.

Faust commits what its stream acknowledged, and it counts a jump in the offsets it delivers as
acknowledged too (meant for compacted topics), with no check at all while a partition has no
committed offset yet. After a restart on Tansu, the stream was seen to drop records it had
fetched; Faust then committed past them and they were never normalised. So a jump is checked
with the broker: a plain read from the offset the worker expects shows whether records exist
before the delivered one. If none do, the jump is genuine (a transactional producer's commit
markers, or retention or delete_records moving the log start past it) and the record is handled.
If some do, the stream dropped them: the worker seeks back and skips what was fetched after the
gap until the first missing record comes round again. What remains is a window of one commit
interval (Faust may commit a skipped record before the re-delivery) in which a crash would lose
the gap; without the guard it was lost every time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Literal

from kafka import KafkaConsumer, TopicPartition
from tenacity import Retrying, retry_if_result, stop_after_delay

from lznews_common import kafka
from lznews_common.settings import Settings

log = logging.getLogger(__name__)

Admit = Literal["handle", "skip", "gap"]
Resolved = Literal["handle", "seek"]


class GapGuard:
    def __init__(self, settings: Settings, group: str, probe_s: float = 5.0) -> None:
        self.settings = settings
        self.group = group
        self.probe_s = probe_s
        self.expected: dict[TopicPartition, int] = {}  # next offset to handle
        self.gap_at: dict[TopicPartition, int] = {}  # the record that showed a dropped range

    def known(self, tp: TopicPartition) -> bool:
        return tp in self.expected

    def start(self, tps: Iterable[TopicPartition]) -> None:
        """Where each partition resumes: its committed offset, or the log start (blocking: run
        it off the loop, once per assignment)."""
        tps = list(tps)
        committed = kafka.committed_offsets(self.settings, self.group)
        reader = self._reader()
        try:
            begin = reader.beginning_offsets(tps)
        finally:
            reader.close()
        for tp in tps:
            self.expected[tp] = max(committed.get(tp, begin[tp]), begin[tp])

    def forget(self, tps: Iterable[TopicPartition]) -> None:
        for tp in tps:
            self.expected.pop(tp, None)
            self.gap_at.pop(tp, None)

    def admit(self, tp: TopicPartition, offset: int) -> Admit:
        """handle: in order (or delivered again after a seek); skip: fetched after a dropped
        range, before the seek back took; gap: a jump to check with `resolve`."""
        if offset <= self.expected[tp]:
            self.expected[tp] = offset + 1
            self.gap_at.pop(tp, None)
            return "handle"
        if tp in self.gap_at and offset != self.gap_at[tp]:
            return "skip"
        return "gap"

    def resolve(self, tp: TopicPartition, offset: int) -> Resolved:
        """A jump from expected[tp] to `offset` (blocking: run it off the loop). handle: no
        record exists in between; seek: records were dropped, seek back to expected[tp]."""
        want = self.expected[tp]
        try:
            first = self._first_readable(tp, want)
        except Exception as exc:  # cannot tell: re-read, and ask again when it comes round
            log.warning("cannot check the jump %s/%d %d->%d (%s): seeking back",
                        tp.topic, tp.partition, want, offset, exc)
            first = want
        if first >= offset:
            log.info("offsets %s/%d %d..%d hold no records (transaction markers or a moved "
                     "log start)", tp.topic, tp.partition, want, offset - 1)
            self.expected[tp] = offset + 1
            self.gap_at.pop(tp, None)
            return "handle"
        log.warning("records %s/%d %d..%d were never delivered: seeking back",
                    tp.topic, tp.partition, first, offset - 1)
        self.gap_at[tp] = offset
        return "seek"

    def _first_readable(self, tp: TopicPartition, offset: int) -> int:
        """Offset of the first record at or after `offset` (the log start if it is past it)."""
        reader = self._reader()
        try:
            reader.assign([tp])
            reader.seek(tp, offset)
            # A new reader's first polls come back empty while it fetches: poll until a record
            # shows or probe_s is up (then None, not tenacity's RetryError).
            polls = Retrying(stop=stop_after_delay(self.probe_s),
                             retry=retry_if_result(lambda records: not records),
                             retry_error_callback=lambda _: None)
            records = polls(lambda: reader.poll(timeout_ms=200, max_records=1).get(tp))
        finally:
            reader.close()
        if records:
            return records[0].offset
        raise TimeoutError(f"nothing readable from {offset} within {self.probe_s}s")

    def _reader(self) -> KafkaConsumer:
        return KafkaConsumer(**kafka.client_config(self.settings), group_id=None,
                             enable_auto_commit=False, auto_offset_reset="earliest")
