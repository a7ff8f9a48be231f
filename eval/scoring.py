"""Field scorers for the accuracy harness: pure functions, one per field.

Every comparison first normalises both sides with :func:`norm`: the normaliser's own
traditional -> simplified conversion, lznews_normalizer.convert.convert (OpenCC t2s; a string
that t2s changes by >= 4% counts as traditional and gets tw2s plus the normaliser's Taiwan
terms, exactly as the normaliser treats a traditional page; already-simplified text such as
the normaliser's own output is left as it is), NFKC (full-width letters,
digits and punctuation -> half-width), one form for brackets and quotes, whitespace collapsed
(and dropped next to Chinese characters), lower case.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from lznews_normalizer.convert import convert

ENTITY_TYPES = ("people", "places", "organizations")
CST = timezone(timedelta(hours=8))

_PUNCT = str.maketrans({
    "〔": "[", "〕": "]", "【": "[", "】": "]", "﹝": "[", "﹞": "]", "［": "[", "］": "]",
    "「": '"', "」": '"', "『": '"', "』": '"', "“": '"', "”": '"', "‘": "'", "’": "'",
    "。": ".", "、": ",", "〈": "<", "〉": ">", "《": "<", "》": ">", "—": "-", "–": "-",
})
_SPACE = re.compile(r"\s+")
# A space next to a non-ASCII character is layout (名 字, 兰州 新区); between Latin words it is not.
_LAYOUT_SPACE = re.compile(r"(?<=[^\x00-\x7f]) | (?=[^\x00-\x7f])")
_NAME_SPLIT = re.compile(r"[\s,，、/;；:：|]+")
_NAME_WORDS = re.compile(r"(?:责任)?编辑|(?:本报|实习)?记者|作者")
_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


@dataclass
class Ratio:
    """hits / total, e.g. titles right / article pages."""

    hit: int = 0
    total: int = 0

    def add(self, ok: bool, n: int = 1) -> None:
        self.hit += n if ok else 0
        self.total += n

    def __str__(self) -> str:
        if not self.total:
            return "–"
        return f"{self.hit / self.total:.0%} ({self.hit}/{self.total})"


@dataclass
class PR:
    """Micro-averaged precision and recall: sums of true positives, predictions, gold names."""

    tp: int = 0
    pred: int = 0
    gold: int = 0

    def add(self, other: PR) -> None:
        self.tp += other.tp
        self.pred += other.pred
        self.gold += other.gold

    @property
    def precision(self) -> float | None:
        return self.tp / self.pred if self.pred else None

    @property
    def recall(self) -> float | None:
        return self.tp / self.gold if self.gold else None

    def __str__(self) -> str:
        p, r = self.precision, self.recall
        ps = f"{p:.0%}" if p is not None else "–"
        rs = f"{r:.0%}" if r is not None else "–"
        return f"P {ps} R {rs} ({self.tp}/{self.pred}/{self.gold})"


def norm(text: str | None) -> str:
    """The comparable form of a string (see the module docstring); None -> ""."""
    if not text:
        return ""
    text = convert(text).text
    text = unicodedata.normalize("NFKC", text).translate(_PUNCT)
    text = _SPACE.sub(" ", text).strip()
    return _LAYOUT_SPACE.sub("", text).lower()


def squash(text: str | None) -> str:
    """norm() with every space removed: for finding sentences inside a body."""
    return norm(text).replace(" ", "")


def split_names(text: str | None) -> list[str]:
    """A free-text byline ("记者 王文嘉 李明", "作者：张三、李四") -> names."""
    if not text:
        return []
    return [n for n in _NAME_SPLIT.split(_NAME_WORDS.sub(" ", text)) if n]


def name_set(names: list[str] | None) -> set[str]:
    return {n for n in (squash(x) for x in names or []) if n}


# --- one scorer per field ------------------------------------------------------------------------


def score_decision(kind: str, accepted: bool) -> bool:
    """Right when an article is accepted or a listing is rejected."""
    return accepted if kind == "article" else not accepted


def score_title(gold: str, got: str | None) -> tuple[bool, bool]:
    """(exact match, output contains the gold title) after normalisation."""
    g, o = norm(gold), norm(got)
    return bool(o) and o == g, bool(g) and g in o


def local_day(value: str | None) -> str | None:
    """A date or timestamp -> its day ("YYYY-MM-DD") in China time; naive values are local."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        m = _YMD.search(value)
        return f"{int(m[1]):04d}-{int(m[2]):02d}-{int(m[3]):02d}" if m else None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(CST)
    return parsed.date().isoformat()


def score_date(gold: str | None, got: str | None) -> bool:
    """The day matches; a page whose gold is null is right when the output is null too."""
    return local_day(gold) == local_day(got)


def score_source(gold: str | None, got: str | None) -> bool:
    """Equal after normalisation, or one contains the other when the shorter is >= 2 chars."""
    g, o = squash(gold), squash(got)
    if not g or not o:
        return g == o
    short, long_ = sorted((g, o), key=len)
    return g == o or (len(short) >= 2 and short in long_)


def score_names(gold: list[str], got: list[str] | None) -> PR:
    """Authors or editors of one page: exact name matches."""
    g, o = name_set(gold), name_set(got)
    return PR(len(g & o), len(o), len(g))


def score_doc_number(gold: str | None, got: str | None) -> bool:
    """Exact after normalisation, with (), [] and 〔〕 around the year treated alike."""
    def key(s: str | None) -> str:
        return squash(s).replace("(", "[").replace(")", "]")
    return key(gold) == key(got)


def body_missing(keep: list[str], body: str | None) -> list[str]:
    """The body_keep sentences NOT found in the body (whitespace ignored on both sides)."""
    flat = squash(body)
    return [s for s in keep if not flat or squash(s) not in flat]


def body_leftover(drop: list[str], body: str | None) -> list[str]:
    """The body_drop strings still found in the body (boilerplate not removed)."""
    flat = squash(body)
    return [s for s in drop if flat and squash(s) in flat]


def score_entities(gold: dict[str, list[str]],
                   got: dict[str, list[str]] | None) -> dict[str, PR]:
    """Per type (people, places, organizations) and "all": a predicted name is right when it
    equals a gold name of the same type after normalisation."""
    out = {"all": PR()}
    for typ in ENTITY_TYPES:
        pr = score_names(gold.get(typ) or [], (got or {}).get(typ) or [])
        out[typ] = pr
        out["all"].add(pr)
    return out
