"""Words as jieba's dictionary knows them: how common a word is (the repair stage's choices
between readings of damaged text) and its usual part of speech (the entity rules' test for a
common noun the tagger took for a name). The gazetteer's names are added as common names."""

from __future__ import annotations

import threading
from functools import lru_cache
from importlib import resources

from .gazetteer import gazetteer

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _dictionary() -> tuple[dict[str, int], dict[str, str]]:
    freq: dict[str, int] = {}
    tags: dict[str, str] = {}
    with _lock:
        text = resources.files("jieba").joinpath("dict.txt").read_text("utf-8")
    for line in text.splitlines():
        word, count, tag = (line.split(" ") + ["", ""])[:3]
        if word and count.isdigit():
            freq[word] = int(count)
            tags[word] = tag
    for surface in gazetteer().canonical:
        freq[surface] = 2000  # as the tagger's user words had it before LAC
    return freq, tags


def word_frequency(word: str) -> int:
    return _dictionary()[0].get(word, 0)


def usual_tag(word: str) -> str:
    """The word's part of speech in jieba's dictionary ("" when it is not there)."""
    return _dictionary()[1].get(word, "")
