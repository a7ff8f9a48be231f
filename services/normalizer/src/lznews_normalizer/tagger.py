"""Tagging for the entity rules: the pluggable :class:`Tagger` and the default one, Baidu's LAC
(lac.py), which segments, tags parts of speech and marks person, place and organisation names
in one pass."""

from __future__ import annotations

import threading
from typing import Protocol

# The tagger reads at most MAX_TAGGED_CHARS of a body (the regex and gazetteer rules read all of
# it): LAC tags about 35,000 characters a second on one core, so this bounds it near 1.5 s.
# Real articles send it a few thousand.
MAX_TAGGED_CHARS = 50_000


class Tagger(Protocol):
    def tag(self, text: str) -> list[tuple[str, str]]:
        """Split text into (word, POS) pairs using ICTCLAS-style tags (ns place, nr person, nt
        organisation, n noun, v verb, x punctuation...)."""
        ...


_default: Tagger | None = None
_default_lock = threading.Lock()


def default_tagger() -> Tagger:
    global _default
    with _default_lock:
        if _default is None:
            from .lac import LacTagger

            _default = LacTagger()
        return _default
