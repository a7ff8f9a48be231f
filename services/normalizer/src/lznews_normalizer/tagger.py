"""Part-of-speech tagging for the entity rules: the pluggable :class:`Tagger`, and the default
one, jieba's POS tagger with the gazetteer loaded as user words and a bounded HMM budget."""

from __future__ import annotations

import threading
from typing import Protocol

from .gazetteer import gazetteer
from .han import is_jieba_han

# The POS tagger reads at most MAX_TAGGED_CHARS of a body (the regex rules read all of it), and
# jieba's HMM, which finds words outside the dictionary (new names), at most HMM_BUDGET of
# those: it costs about 0.25 ms a character on text that forms no dictionary words, so one
# paragraph of 60,000 such characters took 30 s. Real articles send it a few hundred.
MAX_TAGGED_CHARS = 100_000
HMM_BUDGET = 2_500
PIECE = 1_000  # text tagged per call: bounds how far one paragraph can overrun the HMM budget
# Characters jieba joins into one block; a piece ending after any other character is tagged
# exactly as it is inside the whole text.
_BLOCK_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+#&._\r")


class Tagger(Protocol):
    def tag(self, text: str) -> list[tuple[str, str]]:
        """Split text into (word, POS) pairs using the ICTCLAS-style tags jieba uses
        (ns place, nr person, nt organisation, n noun, v verb, x punctuation...)."""
        ...


class JiebaTagger:
    """jieba POS tagging with a private dictionary (the global jieba state is left alone)."""

    def __init__(self) -> None:
        import logging

        import jieba
        import jieba.posseg

        jieba.setLogLevel(logging.WARNING)
        self._tokenizer = jieba.Tokenizer()
        self._tokenizer.check_initialized()
        gaz = gazetteer()
        for surface, name in gaz.canonical.items():
            self._tokenizer.add_word(surface, freq=2000, tag="ns" if gaz.kind[name] == "place"
                                     else "nt")
        self._pos = jieba.posseg.POSTokenizer(self._tokenizer)
        self._lock = threading.Lock()

    def tag(self, text: str) -> list[tuple[str, str]]:
        """(word, POS) pairs; past HMM_BUDGET characters of HMM work, dictionary words only."""
        out: list[tuple[str, str]] = []
        hmm_left = HMM_BUDGET
        with self._lock:  # jieba's lazy structures are not thread-safe
            if len(text) <= HMM_BUDGET:  # the HMM cannot read more than all of it
                return [(p.word, p.flag) for p in self._pos.cut(text)]
            for piece in pieces(text, PIECE):
                hmm = hmm_left > 0
                tokens = [(p.word, p.flag) for p in self._pos.cut(piece, HMM=hmm)]
                if hmm:
                    hmm_left -= self._hmm_chars(tokens)
                out.extend(tokens)
        return out

    def _hmm_chars(self, tokens: list[tuple[str, str]]) -> int:
        """Characters the HMM read, as jieba chooses them: runs of 2+ Han characters that the
        dictionary could only cut into single characters (the HMM's output is rarely a
        dictionary word, so runs of single or unknown words show where it ran)."""
        used = run = 0
        freq = self._tokenizer.FREQ
        for word, _ in tokens:
            if (len(word) == 1 or not freq.get(word)) and is_jieba_han(word[:1]):
                run += len(word)
                continue
            used += run if run >= 2 else 0
            run = 0
        return used + (run if run >= 2 else 0)

    def freq(self, word: str) -> int:
        return self._tokenizer.FREQ.get(word, 0)


def _joins(c: str) -> bool:
    return c in _BLOCK_CHARS or is_jieba_han(c)


def pieces(text: str, size: int) -> list[str]:
    """`text` cut into pieces of at most `size` characters, each cut made after a character
    jieba does not join into a word block (punctuation, space, newline) when the piece has one:
    then tagging the pieces one by one gives the tokens of tagging the whole text."""
    out, start, n = [], 0, len(text)
    while start < n:
        end = min(start + size, n)
        if end < n:
            cut = end
            while cut > start and _joins(text[cut - 1]):
                cut -= 1
            end = cut if cut > start else end  # no separator at all: a hard cut
        out.append(text[start:end])
        start = end
    return out


_default: JiebaTagger | None = None
_default_lock = threading.Lock()


def default_tagger() -> JiebaTagger:
    global _default
    with _default_lock:
        if _default is None:
            _default = JiebaTagger()
        return _default
