"""lznews-search with hostile data in the index and hostile arguments (issue 14, items 5 and 11):
nothing from the index reaches the terminal as a control sequence, in any output mode; bad
arguments are refused in one line before any request; a server refusal is one line."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
from indexer_helpers import BIN, make_article

from lznews_common.search import es_client
from lznews_common.settings import Settings
from lznews_devstack.processes import free_port
from lznews_indexer.bootstrap import Bootstrapper
from lznews_indexer.bulk import BulkWriter, Doc, Outcome
from lznews_indexer.searchcli import BOLD, RESET
from tests.support import settings_env

# What must never reach the terminal from data: C0 (newline aside), DEL, C1, bidi controls.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
TITLE = ("供暖\x1b]0;pwned\x07通知\x1b[2J\x1b[H <em>假高亮</em> &amp; \u009b31m红\u202e反\n"
         "第二行\r覆盖")
BODY = "各县、区人民政府：\x1b[1;31m城市供暖\x07保障工作\u0085通知如下。\n市住建局负责\x1b]8;;http://x\x07监管。"


@pytest.fixture
def hostile(idx_settings: Settings) -> Settings:
    s = idx_settings
    es = es_client(s)
    Bootstrapper(es, s).run()
    a = make_article(60, site="lanzhou_gov\x1b[5m", title=TITLE, body=BODY,
                     url="http://www.lanzhou.gov.cn/art/\x1b[2J.html")
    a.doc_number = "兰政办发\x07〔2025〕1号"
    stats = BulkWriter(es, s.es_alias).write([Doc.from_article(a)])
    assert {r.outcome for r in stats.results} == {Outcome.CREATED}
    es.indices.refresh(index=s.es_alias)
    return s


def search(s: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "lznews-search"), *args], env=os.environ | settings_env(s),
                          capture_output=True, text=True, timeout=60)


def test_text_output_shows_control_characters_as_escapes(hostile: Settings) -> None:
    for color in ("never", "always", "auto"):  # auto: not a terminal here, so plain
        out = search(hostile, "供暖", "--color", color)
        assert out.returncode == 0, out.stderr
        ours = out.stdout.replace(BOLD, "").replace(RESET, "")  # the CLI's own highlighting
        assert not RAW_CONTROL.search(ours), color
        assert "\\x1b]0;pwned\\x07" in out.stdout and "\\x9b31m" in out.stdout
        assert "\\u202e" in out.stdout and "\\x1b[2J" in out.stdout
        lines = out.stdout.splitlines()
        assert lines[0].endswith("\\n第二行\\r覆盖  兰政办发\\x07〔2025〕1号")  # one line
        assert "1 of 1 matching" in lines[-1]
    never = search(hostile, "供暖", "--color", "never").stdout
    assert "[供暖]" in never and "<em>假高亮</em> &amp;" in never  # data tags are text
    always = search(hostile, "供暖", "--color", "always").stdout
    assert f"{BOLD}供暖{RESET}" in always and "<em>假高亮</em>" in always


def test_json_output_escapes_what_json_leaves_raw(hostile: Settings) -> None:
    for color in ("never", "always"):
        out = search(hostile, "供暖", "--json", "--color", color)
        assert out.returncode == 0, out.stderr
        assert not RAW_CONTROL.search(out.stdout)
        hit = json.loads(out.stdout)  # still valid JSON with the data intact
        assert hit["_source"]["title"] == TITLE


@pytest.mark.parametrize("args, why", [
    (["-n", "-1"], "argument -n/--size: must be between 1 and 10000, not -1"),
    (["-n", "0"], "argument -n/--size"),
    (["-n", "20000"], "argument -n/--size"),
    (["-n", "ten"], "argument -n/--size: not a whole number"),
    (["--since", "yesterday\x1b[2J"], "argument --since"),
    (["--site", "lzbs\x1b[2J"], "argument --site: contains a control"),
    (["--entity", "兰州\x07"], "argument --entity: contains a control"),
], ids=["negative", "zero", "too-many", "not-a-number", "bad-since", "site-esc", "entity-bel"])
def test_bad_arguments_are_refused_before_any_request(args: list[str], why: str) -> None:
    env = os.environ | {"LZNEWS_ES_URL": f"http://127.0.0.1:{free_port()}"}  # nobody listens
    done = subprocess.run([str(BIN / "lznews-search"), "供暖", *args], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("lznews-search: error: ") and why in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and not RAW_CONTROL.search(done.stderr)


def test_a_search_server_refusal_is_one_readable_line(hostile: Settings) -> None:
    out = search(hostile, "供暖", "--index", "no-such-index-here")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith("lznews-search: search server answered HTTP 404 "
                                 "(index_not_found_exception): no such index"), out.stderr

