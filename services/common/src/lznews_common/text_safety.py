"""Text from pages, the index or Kafka made safe to print or to write into Markdown.

Nothing here trusts upstream cleaning (the normaliser strips control characters, but an index or
a topic can hold anything): every program that shows such text to a person passes it through
one of these helpers.

- Terminals: `visible` shows C0/C1 controls, DEL, bidi overrides, line separators and lone
  surrogates as escapes (\\x1b, \\u202e), so data can neither drive the terminal (set its title,
  clear the screen) nor reorder or split a line. `json_line` does the same for JSON output.
- Markdown digests: `md_text`, `md_link`, `comment_safe` (escaped text, link targets that stay
  one link, HTML-comment values that cannot close the comment).
- CLIs: `OneLineArgumentParser` (argument errors as one line, exit 2), `error_line` (a search
  server's refusal as one readable line), `text_arg`, `int_between` (argument checks done before
  any request is sent).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from typing import Any, NoReturn
from urllib.parse import quote

# Characters that must never reach a terminal or a Markdown file raw: C0 controls, DEL, C1
# controls (U+009B is an 8-bit CSI), bidi embeddings/overrides/isolates and marks (they reorder
# what is shown), the Unicode line and paragraph separators, and lone surrogates (from invalid
# UTF-8 or JSON "\ud800": printing them raises UnicodeEncodeError).
_OTHER_UNSAFE = (
    "\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff"
)
_UNSAFE_CLASS = "\x00-\x1f" + _OTHER_UNSAFE
UNSAFE = re.compile(f"[{_UNSAFE_CLASS}]")
_UNSAFE_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f{_OTHER_UNSAFE}]")
# JSON escapes C0 itself; these it leaves raw when ensure_ascii=False.
_JSON_UNSAFE = re.compile(f"[{_OTHER_UNSAFE}]")
_SPACES = re.compile(r"\s+")
# Markdown and inline-HTML punctuation that could start a construct inside a line.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#!|~&])")
# Block markers that only matter at the start of a line (list items, setext underlines).
_MD_LINE_START = re.compile(r"^(\d+[.)]|[-+=])")
# What a link destination may not hold raw (CommonMark: no spaces or controls, balanced
# parentheses; <>, quotes and backslashes would end or escape it).
_URL_UNSAFE = re.compile(f"[\\s()<>\\\\\"'`{_UNSAFE_CLASS}]")
_LINKABLE = re.compile(r"^https?://", re.IGNORECASE)


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    if ch in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def find_unsafe(text: str) -> str | None:
    """The first character `visible` would escape, or None."""
    m = UNSAFE.search(text)
    return m.group() if m else None


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """`text` for a terminal: every unsafe character as a visible escape (ESC -> \\x1b)."""
    pattern = _UNSAFE_BUT_NEWLINE if keep_newlines else UNSAFE
    return pattern.sub(lambda m: _escape(m.group()), text)


def one_line(text: str, limit: int = 300) -> str:
    """Whitespace runs (newlines included) as one space, unsafe characters escaped, cut to
    `limit` characters: for log-like single lines such as error messages."""
    flat = visible(_SPACES.sub(" ", text).strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def json_line(obj: Any) -> str:
    """One JSON document on one line, readable Chinese kept, nothing a terminal would act on:
    json.dumps escapes C0 but (with ensure_ascii=False) not DEL, C1, bidi controls, U+2028/9
    or lone surrogates; those only occur inside strings, where \\uXXXX is valid JSON."""
    text = json.dumps(obj, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def md_text(text: str, *, line_start: bool = False, strip: bool = True) -> str:
    """Plain text inside one Markdown line: whitespace folded, unsafe characters dropped,
    Markdown/HTML punctuation backslash-escaped (so no link, emphasis, HTML comment or tag can
    be started or closed by the data). `line_start`: also neutralise a leading block marker."""
    flat = UNSAFE.sub("", _SPACES.sub(" ", text))
    flat = flat.strip() if strip else flat
    out = _MD_SPECIAL.sub(r"\\\1", flat)
    if line_start:
        out = _MD_LINE_START.sub(lambda m: m.group()[:-1] + "\\" + m.group()[-1], out, count=1)
    return out


def md_url(url: str) -> str:
    """A URL as a Markdown link destination: the characters that could end, split or escape
    it (spaces, parentheses, angle brackets, quotes, backslashes, controls) percent-encoded."""
    return _URL_UNSAFE.sub(
        lambda m: quote(m.group(), safe="", errors="surrogatepass"), url.strip()
    )


def md_link(text: str, url: str) -> str:
    """`[text](url)` for http(s) URLs; anything else (javascript:, data:) is shown, not linked."""
    label = md_text(text) or "untitled"
    if _LINKABLE.match(url.strip()):
        return f"[{label}]({md_url(url)})"
    return f"{label} ({md_text(url)})" if url.strip() else label


def comment_safe(value: str) -> str:
    """`value` for inside an HTML comment (`<!-- key:value -->`): ordinary ids unchanged,
    anything that could close the comment, break the line or be invalid UTF-8 percent-encoded
    (deterministic, so a marker written before is recognised again)."""
    return quote(value, safe=":._-~+=@", errors="surrogatepass")


def error_line(exc: BaseException, limit: int = 300) -> str:
    """A search-server failure as one readable line: for an Elasticsearch API error the HTTP
    status, error type and root-cause reason rather than the raw body; otherwise the message."""
    status = getattr(exc, "status_code", None) or getattr(exc, "status", None)
    body = getattr(exc, "body", None)
    if isinstance(status, int) and body is not None:
        kind, reason = _api_reason(body)
        head = f"search server answered HTTP {status}" + (f" ({kind})" if kind else "")
        return one_line(f"{head}: {reason}" if reason else head, limit)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return one_line(f"search server unreachable or failing: {message}", limit)


def _api_reason(body: Any) -> tuple[str, str]:
    if not isinstance(body, dict):
        return "", str(body)
    error = body.get("error", body)
    if not isinstance(error, dict):
        return "", str(error)
    causes = error.get("root_cause")
    ok = isinstance(causes, list) and causes and isinstance(causes[0], dict)
    first = causes[0] if ok else error
    return str(first.get("type") or error.get("type") or ""), str(
        first.get("reason") or error.get("reason") or ""
    )


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr (`prog: error: ...`, exit 2), the
    house style for CLI errors; `--help` still shows the full usage."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {one_line(message)}", file=sys.stderr)
        sys.exit(2)


def text_arg(value: str) -> str:
    """An argparse type for free text: refuses control characters and invalid UTF-8 (lone
    surrogates from the command line), which no search or watch should contain."""
    bad = find_unsafe(value)
    if bad is not None:
        raise argparse.ArgumentTypeError(
            f"contains a control or invalid character ({_escape(bad)}): {visible(value)[:80]!r}"
        )
    return value


def int_between(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high], checked before any request is sent."""

    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
        if not low <= n <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, not {n}")
        return n

    parse.__name__ = "int"  # argparse names the type in its messages
    return parse
