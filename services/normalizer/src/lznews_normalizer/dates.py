"""Publication time: parsing dates as Chinese pages write them, and choosing the page's one.

Our own rules first: generic date guessers (htmldate) pick wrong dates on these templates
(2020-01-01 for seed 000). All inputs are expected repaired and simplified.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlsplit

from lxml import html

from .han import HAN
from .labels import joined_labels
from .parse import meta_content
from .titles import under_title

CST = timezone(timedelta(hours=8))
MAX_SIGNER_CHARS = 60  # an issuing body's name on its own line (joint issuers included)

# No two unbounded `\s*` may touch (`\s*[:：]?\s*`, `\s*日?(?:\s*...`): on a run of spaces
# they backtrack quadratically. Each optional part carries its own leading `\s*` instead.
_DATE = (
    r"(?<![\d.])(?P<y>(?:19|20)\d{2}|\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*"
    r"(?P<d>\d{1,2})(?!\d)(?:\s*日)?"
    r"(?:\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{2})(?:\s*[:：分]\s*(?P<S>\d{2}))?)?"
)
DATE_RE = re.compile(_DATE)
# Overseas Chinese sites date in English: 'Sunday, March 16th, 2014'.
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
EN_DATE_RE = re.compile(
    r"\b(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?P<d>\d{1,2})"
    r"(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d{2})\b",
    re.I,
)
_PUBLISH_LABEL = re.compile(
    rf"(?:发布时间|发布日期|发稿时间|发表时间|更新时间|生成日期|Date|时间|日期)(?:\s*[:：])?\s*{_DATE}",
    re.I,
)
_WRITTEN_LABEL = re.compile(rf"(?:成文日期|发文日期|印发日期)(?:\s*[:：])?\s*{_DATE}")
_COMPACT_DATE = re.compile(r"^(?P<y>(?:19|20)\d{2})(?P<md>\d{2,4})$")
# Two Han characters before the suffix suffice for a search (`{2,}` says the same but tries
# every start against the whole Han run after it: quadratic on a long run).
_SIGNER = re.compile(
    rf"[{HAN}]{{2}}(?:办公厅|办公室|人民政府|委员会|政府|局|厅|委|办|院|部|中心)$"
)
_URL_DATES = (
    re.compile(r"/(?P<y>(?:19|20)\d{2})-(?P<m>\d{1,2})/(?P<d>\d{1,2})/"),  # /2024-11/20/
    re.compile(r"/(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})/"),  # /20260113/
    re.compile(r"/(?P<y>(?:19|20)\d{2})/(?P<m>\d{2})(?P<d>\d{2})/"),  # /2019/0326/
    re.compile(r"/(?P<y>(?:19|20)\d{2})/(?P<m>\d{1,2})/(?P<d>\d{1,2})/"),  # /2017/6/7/
    re.compile(r"[/_-](?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})[_-]"),
)
_META_DATE_NAMES = ("publishdate", "pubdate", "article:published_time", "datepublished",
                    "og:release_date", "publish_date", "firstpublishedtime", "created")

def _mk(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0,
        latest: date | None = None) -> datetime | None:
    if y < 100:
        y += 2000
    latest = latest or (datetime.now(CST).date() + timedelta(days=2))
    try:
        dt = datetime(y, m, d, hh, mm, ss, tzinfo=CST)
    except ValueError:
        return None
    if dt.year < 1990 or dt.date() > latest:
        return None
    return dt


def _from_match(m: re.Match[str], latest: date | None = None) -> datetime | None:
    g = m.groupdict()
    return _mk(int(g["y"]), int(g["m"]), int(g["d"]), int(g.get("H") or 0),
               int(g.get("M") or 0), int(g.get("S") or 0), latest)


def parse_date(text: str, latest: date | None = None) -> datetime | None:
    """First valid date (optionally with time) in `text`, as Beijing time."""
    for m in DATE_RE.finditer(text):
        dt = _from_match(m, latest)
        if dt:
            return dt
    for m in EN_DATE_RE.finditer(text):
        month = _MONTHS.index(m.group("mon").lower()) + 1
        if dt := _mk(int(m.group("y")), month, int(m.group("d")), latest=latest):
            return dt
    return None


def parse_compact_date(text: str, latest: date | None = None) -> datetime | None:
    """'2017519' (a notice's closing date with 年月日 lost) -> 2017-05-19, when unambiguous."""
    m = _COMPACT_DATE.match(text.strip())
    if not m:
        return None
    y, md = int(m.group("y")), m.group("md")
    splits = [(md[:i], md[i:]) for i in range(1, len(md)) if len(md[:i]) <= 2 and len(md[i:]) <= 2]
    found = {dt for a, b in splits if (dt := _mk(y, int(a), int(b), latest=latest))}
    return found.pop() if len(found) == 1 else None


def rfc3339(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def date_from_url(url: str, latest: date | None = None) -> datetime | None:
    path = urlsplit(url).path
    for pat in _URL_DATES:
        m = pat.search(path)
        if m:
            dt = _mk(int(m["y"]), int(m["m"]), int(m["d"]), latest=latest)
            if dt:
                return dt
    return None


def closing_date(lines: list[str], latest: date | None = None) -> datetime | None:
    """The date under the issuing body's name that closes a government notice."""
    for i in range(len(lines) - 1, 0, -1):
        line, signer = lines[i].strip(), lines[i - 1].strip()
        # Lengths first: the regex need not read a paragraph to learn it is no signature.
        if len(line) > 20 or len(signer) > MAX_SIGNER_CHARS or not _SIGNER.search(signer):
            continue
        dt = parse_compact_date(line, latest)
        if dt is None:
            m = DATE_RE.fullmatch(line)
            dt = _from_match(m, latest) if m else None
        if dt:
            return dt
    return None


def published_at(page_lines: list[str], info_lines: list[str], url: str,
                 root: html.HtmlElement | None = None,
                 latest: date | None = None, title: str | None = None) -> datetime | None:
    """Publication time, most trustworthy evidence first."""
    for line in joined_labels(info_lines + page_lines):
        for m in _PUBLISH_LABEL.finditer(line):
            if dt := _from_match(m, latest):
                return dt
    meta = None
    for content in meta_content(root, _META_DATE_NAMES):
        if meta := parse_date(content, latest):
            break
    # Unlabelled header lines like "2020年05月22日08:40 来源:..." (carry the time of day).
    for line in info_lines + under_title(page_lines, title):
        if dt := parse_date(line, latest):
            if meta is None or dt.date() == meta.date():
                return dt
    if meta:
        return meta
    for line in page_lines:
        for m in _WRITTEN_LABEL.finditer(line):
            if dt := _from_match(m, latest):
                return dt
    if dt := closing_date(page_lines, latest):
        return dt
    return date_from_url(url, latest)
