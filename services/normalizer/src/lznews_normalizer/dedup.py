"""Exact and near-duplicate fingerprints of a normalised body.

content_hash catches byte-identical bodies; a 64-bit simhash over character shingles catches
the same story reprinted with another footer or converted from traditional characters.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import MutableMapping

_DROP = re.compile(r"[\s\W_]+", re.UNICODE)
SHINGLE = 3
BITS = 64
DEFAULT_DISTANCE = 6


def fingerprint_text(body: str) -> str:
    """What both hashes see: NFKC, no whitespace or punctuation (so layout does not count)."""
    return _DROP.sub("", unicodedata.normalize("NFKC", body)).lower()


def content_hash(body: str) -> str:
    return hashlib.sha256(fingerprint_text(body).encode("utf-8")).hexdigest()


def simhash(body: str, shingle: int = SHINGLE) -> int:
    text = fingerprint_text(body)
    if not text:
        return 0
    grams = Counter(text[i: i + shingle] for i in range(max(1, len(text) - shingle + 1)))
    # Weight per (byte position, byte value) first: 8 additions per shingle instead of 64;
    # the per-bit sums are read off the 8 x 256 table afterwards.
    table = [[0] * 256 for _ in range(BITS // 8)]
    total = 0
    for gram, weight in grams.items():
        digest = hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest()
        for pos, byte in enumerate(reversed(digest)):  # pos 0 = least significant byte
            table[pos][byte] += weight
        total += weight
    value = 0
    for pos in range(BITS // 8):
        row = table[pos]
        for bit in range(8):
            ones = sum(row[b] for b in _WITH_BIT[bit])
            if 2 * ones > total:  # more weight votes 1 than 0
                value |= 1 << (pos * 8 + bit)
    return value


_WITH_BIT = [[b for b in range(256) if b >> bit & 1] for bit in range(8)]


def simhash_hex(value: int) -> str:
    return f"{value:016x}"


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def is_near_duplicate(a: int, b: int, max_distance: int = DEFAULT_DISTANCE) -> bool:
    return hamming(a, b) <= max_distance


class SimhashIndex:
    """Near-duplicate lookup over a dict-like store (a Faust table can back it).

    Pigeonhole banding: with `bands` > max_distance, two hashes within max_distance share at
    least one identical band, so a lookup only reads `bands` buckets. Values are replaced, never
    mutated in place, so changelog-backed tables see every update.
    """

    def __init__(self, store: MutableMapping[str, list[str]], max_distance: int = DEFAULT_DISTANCE,
                 bands: int = 8, bucket_limit: int = 200) -> None:
        if bands <= max_distance or BITS % bands:
            raise ValueError("bands must divide 64 and exceed max_distance")
        self.store = store
        self.max_distance = max_distance
        self.bands = bands
        self.width = BITS // bands
        self.bucket_limit = bucket_limit

    def _keys(self, value: int) -> list[str]:
        mask = (1 << self.width) - 1
        return [f"sh{i}:{(value >> (i * self.width)) & mask:x}" for i in range(self.bands)]

    def query(self, value: int) -> list[tuple[str, int]]:
        """(doc_id, distance) of stored documents within max_distance, nearest first."""
        seen: dict[str, int] = {}
        for key in self._keys(value):
            for entry in self.store.get(key) or []:
                doc_id, _, hexval = entry.rpartition(":")
                if doc_id in seen:
                    continue
                d = hamming(value, int(hexval, 16))
                if d <= self.max_distance:
                    seen[doc_id] = d
        return sorted(seen.items(), key=lambda kv: (kv[1], kv[0]))

    def add(self, doc_id: str, value: int) -> None:
        entry = f"{doc_id}:{simhash_hex(value)}"
        for key in self._keys(value):
            bucket = [e for e in (self.store.get(key) or []) if e.rpartition(":")[0] != doc_id]
            bucket.append(entry)
            self.store[key] = bucket[-self.bucket_limit:]
