"""Batches of a consumer stage: what is polled and waiting, and how large a batch may grow."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

T = TypeVar("T")


def partition_of(record: ConsumerRecord) -> TopicPartition:
    return TopicPartition(record.topic, record.partition)


@dataclass(frozen=True)
class Polled(Generic[T]):
    """A record that passed the gate, with its decoded message."""

    record: ConsumerRecord
    message: T


@dataclass(frozen=True)
class Limits:
    max_records: int
    max_record_bytes: int  # larger records are dead-lettered unread
    max_record_setting: str  # the setting named in that dead letter
    max_bytes: int = 1 << 62
    max_wait_s: float = 0.0  # 0: handle what each poll brings


class Batch:
    """Records waiting for the next flush, bounded by count and bytes by the caller."""

    def __init__(self) -> None:
        self.records: list[ConsumerRecord] = []
        self.bytes = 0
        self.opened = 0.0

    def __len__(self) -> int:
        return len(self.records)

    def add(self, record: ConsumerRecord) -> None:
        if not self.records:
            self.opened = time.monotonic()
        self.records.append(record)
        self.bytes += len(record.value or b"")

    def age(self) -> float:
        return time.monotonic() - self.opened if self.records else 0.0

    def take(self) -> list[ConsumerRecord]:
        out, self.records, self.bytes = self.records, [], 0
        return out

    def drop(self, partitions: Iterable[TopicPartition]) -> None:
        gone = set(partitions)
        kept = [r for r in self.records if partition_of(r) not in gone]
        self.records, self.bytes = [], 0
        for r in kept:
            self.add(r)
