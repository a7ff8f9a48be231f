"""Main article text from HTML, then line rules for the boilerplate libraries keep.

trafilatura finds the article container well, but local sites put navigation, share buttons,
link farms, licence footers, injected spam and reporter/editor lines *inside* that container,
so every extracted line goes through :func:`clean_lines` afterwards.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from itertools import islice

from lxml import etree, html

from .convert import to_simplified
from .errors import StageError
from .metadata import EN_DATE_RE

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_RE = re.compile(f"[{HAN}]")
# Every kind of whitespace but the newline (and zero-width spaces): a line never holds a run of
# spaces, which keeps each `\s*` in the line rules below matching in constant time.
_SPACES = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c != "\n")
_WS = re.compile(f"[{re.escape(_SPACES)}\u200b\ufeff]+")
# Elements of a page that are read at all: each costs every walk over the tree (a 4 MB page of
# <br> is a million of them). Real pages have a few thousand; the rest of a page is cut off.
MAX_ELEMENTS = 100_000
_OPEN_TAG = re.compile(r"<[A-Za-z]")
# More elements than this and trafilatura is not run (its extraction is quadratic in the element
# count: 50,000 headings take it 20 s); the densest-block rule extracts instead. Real article
# pages have at most a few thousand elements.
MAX_TRAFILATURA_ELEMENTS = 10_000

_SKIP_TAGS = {"script", "style", "noscript", "template", "head", "select", "option", "iframe",
              "svg", "object", "embed", "textarea", "button", "form"}
_BLOCK_TAGS = {"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "tr",
               "table", "section", "article", "header", "footer", "nav", "aside", "dd", "dt",
               "dl", "blockquote", "pre", "center", "hr", "main", "figure", "figcaption",
               "title", "tbody", "thead"}
_CELL_TAGS = {"td", "th"}

logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


def han_count(text: str) -> int:
    return len(HAN_RE.findall(text))


# --- parsing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parsed:
    root: html.HtmlElement
    depth_cut: str | None  # where libxml2's nesting limit stopped the parse, if it did
    elements: int


MAX_DEPTH = 256  # libxml2's nesting limit without XML_PARSE_HUGE


def parse_page(text: str) -> Parsed:
    """Parse leniently. libxml2 stops at MAX_DEPTH nested elements, which keeps hostile pages
    bounded but drops the rest of the page: `depth_cut` says where that happened."""
    if not text.strip():
        raise StageError("extract", "empty document")
    # Encoding declarations are meaningless on str input and make lxml refuse it.
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    parser = html.HTMLParser(remove_comments=True, remove_pis=True)
    try:
        root = html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError, etree.XMLSyntaxError) as exc:
        raise StageError("extract", f"unparseable HTML: {exc}") from exc
    if root is None:
        raise StageError("extract", "unparseable HTML")
    cut = next((f"line {e.line}, column {e.column}" for e in parser.error_log
                if "Excessive depth" in e.message), None)
    return Parsed(root, cut, int(root.xpath("count(//*)")))


def parse_html(text: str) -> html.HtmlElement:
    return parse_page(text).root


def cut_elements(text: str, limit: int = MAX_ELEMENTS) -> str:
    """`text` up to the start tag of element number `limit` + 1 (all of it if it has fewer)."""
    m = next(islice(_OPEN_TAG.finditer(text), limit, None), None)
    return text if m is None else text[: m.start()]


def cap_lines(lines: list[str], max_lines: int, max_chars: int) -> tuple[list[str], int]:
    """The first lines within both bounds (the last one cut to fit), and how many characters
    were left out."""
    out, size = [], 0
    for line in lines[:max_lines]:
        if size >= max_chars:
            break
        out.append(line[: max_chars - size])
        size += len(out[-1])
    return out, sum(map(len, lines)) - size


def _norm_line(s: str) -> str:
    return _WS.sub(" ", s).strip()


def html_lines(root: html.HtmlElement) -> list[str]:
    """Visible text as lines: block elements break lines, table cells are joined by spaces.

    Iterative (iterwalk), so deeply nested pages cannot overflow the Python stack.
    """
    parts: list[str] = []
    walker = etree.iterwalk(root, events=("start", "end"))
    skipping = 0
    for event, el in walker:
        tag = el.tag if isinstance(el.tag, str) else ""
        tag = tag.lower()
        if event == "start":
            if tag in _SKIP_TAGS:
                walker.skip_subtree()
                skipping = 1
                continue
            if tag in _BLOCK_TAGS:
                parts.append("\n")
            elif tag in _CELL_TAGS:
                parts.append(" ")
            if el.text:
                parts.append(el.text)
        else:
            if skipping and tag in _SKIP_TAGS:
                skipping = 0
            elif tag in _BLOCK_TAGS:
                parts.append("\n")
            if el.tail:
                parts.append(el.tail)
    # filter(None, ...) drops the empty strings between consecutive breaks at C speed.
    lines = (_norm_line(s) for s in filter(None, "".join(parts).split("\n")))
    return [ln for ln in lines if ln]


PROSE_HAN = 60  # a paragraph this long outside links is article prose, not a listing item


def has_prose(lines: list[str], root: html.HtmlElement) -> bool:
    """A main-text paragraph of PROSE_HAN+ Han characters that is not a link's text. Listing
    items are headlines (rarely over 40 characters); a short notice on a portal page heavy with
    links still has one such paragraph."""
    long_lines = {re.sub(r"\s+", "", ln) for ln in lines if han_count(ln) >= PROSE_HAN}
    if not long_lines:
        return False
    # An anchor with more text than any line (before its spaces go) is none of them: stop
    # reading it there, or links nested in links read the page once per level.
    limit = 4 * max(map(len, long_lines)) + 1_000
    anchors = {re.sub(r"\s+", "", t) for a in root.iter("a") if (t := _text_upto(a, limit))}
    return any(ln not in anchors for ln in long_lines)


def _text_upto(el: html.HtmlElement, limit: int) -> str | None:
    """el.text_content(), or None once it is longer than `limit`."""
    parts, size = [], 0
    for part in el.itertext():
        size += len(part)
        if size > limit:
            return None
        parts.append(part)
    return "".join(parts)


def anchor_han_ratio(root: html.HtmlElement, lines: list[str] | None = None) -> float:
    """Share of the page's Han characters that sit inside links (listing pages are mostly links).
    `lines`: html_lines(root), if already made (the same lines as the <body>'s)."""
    body = root.find("body")
    scope = body if body is not None else root
    total = han_count(" ".join(lines if lines is not None else html_lines(scope)))
    if not total:
        return 0.0
    # Links nest (through other elements): the outermost ones hold all linked text, once.
    linked = sum(han_count(a.text_content()) for a in scope.iter("a")
                 if next(a.iterancestors("a"), None) is None)
    return linked / total


# --- main text -------------------------------------------------------------------------------


def _trafilatura_lines(text: str) -> list[str]:
    import trafilatura

    out = trafilatura.extract(
        text,
        include_comments=False,
        include_tables=True,
        include_links=False,
        include_images=False,
        include_formatting=False,
        deduplicate=False,
        favor_recall=True,
        with_metadata=False,
    )
    if not out:
        return []
    lines = []
    for ln in out.split("\n"):
        ln = _norm_line(ln)
        if ln.startswith("|") and ln.endswith("|"):  # table row rendering: | a | b |
            ln = _norm_line(" ".join(c for c in ln.strip("|").split("|") if c.strip()))
        if ln.startswith("- "):  # list item rendering
            ln = ln[2:].strip()
        if ln:
            lines.append(ln)
    return lines


_BLOCKS = {"div", "td", "article", "section", "body", "main"}
_SCORED = {"p", "br", "span", "font", "strong", "div"}


def _subtree_han(root: html.HtmlElement) -> dict[html.HtmlElement, int]:
    """Han characters in each element's text_content(), all counted in one pass (calling
    text_content() per element costs the nesting depth times the text)."""
    totals: dict[html.HtmlElement, int] = {}
    for _, el in etree.iterwalk(root, events=("end",)):
        n = han_count(el.text) if el.text else 0
        for child in el:
            n += totals.get(child, 0) + (han_count(child.tail) if child.tail else 0)
        totals[el] = n
    return totals


def _densest_block(root: html.HtmlElement) -> html.HtmlElement:
    """Element whose direct children carry the most non-link Han text (fallback extractor)."""
    subtree = _subtree_han(root)
    best, best_score = root, 0
    for el in root.iter(*_BLOCKS):
        score = 0
        for child in el:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in _SCORED and not (tag == "div" and len(child)):
                score += subtree.get(child, 0)
            if child.tail:
                score += han_count(child.tail)
        if el.text:
            score += han_count(el.text)
        if score > best_score:
            best, best_score = el, score
    return best


@dataclass
class Extracted:
    lines: list[str]
    extractor: str  # trafilatura | fallback


FALLBACK_FACTOR = 3


def extract_main(text: str, root: html.HtmlElement, min_han: int = 50,
                 elements: int | None = None) -> Extracted:
    """Article lines: trafilatura first, our densest-block rule when it finds too little (or
    when the page has too many elements for trafilatura to finish in time)."""
    lines: list[str] = []
    if elements is None:
        elements = int(root.xpath("count(//*)"))
    try:
        if elements <= MAX_TRAFILATURA_ELEMENTS:
            lines = _trafilatura_lines(text)
    except (RecursionError, ValueError, TypeError, etree.LxmlError):
        lines = []
    got = han_count("".join(lines))
    fallback = html_lines(_densest_block(root))
    # trafilatura sometimes keeps only a lead paragraph of a <br>-separated body: the densest
    # block holding several times the text wins then, as it does when trafilatura finds little.
    if got < min_han or han_count("".join(fallback)) > FALLBACK_FACTOR * got:
        if han_count("".join(fallback)) > got:
            return Extracted(fallback, "fallback")
    return Extracted(lines, "trafilatura")


# --- line rules --------------------------------------------------------------------------------

# Strong terms almost never occur in local news; weak ones do (精品旅游, 国产大飞机) and only
# count together with strong ones.
SPAM_STRONG = (
    "无码", "人妻", "久久", "婷婷", "五月天", "在线观看", "亚欧", "日韩", "中文字幕", "伦理片",
    "三级片", "色情", "成人视频", "偷拍", "乱伦", "少妇", "熟女", "巨乳", "丝袜", "午夜",
    "一区二区",
    "二区", "av在线", "博彩", "娱乐城", "百家乐", "赌场", "六合彩", "时时彩", "葡京", "老虎机",
    "代孕", "办证", "开发票", "黄色网站", "视频在线",
)
SPAM_WEAK = ("av", "精品", "国产", "免费", "高清", "福利", "欧美", "棋牌", "影院", "自拍", "视频")
_SPAM_RE = re.compile(
    "|".join(sorted(map(re.escape, SPAM_STRONG + SPAM_WEAK), key=len, reverse=True)), re.I
)
_SPAM_STRONG = set(SPAM_STRONG)

_SEPARATORS = re.compile(r"[|｜\\]")
_BREADCRUMB = re.compile(
    r"^(?:您的位置|您现在的位置|您当前的位置|当前位置|所在位置|您所在的位置|我的位置|位置)\s*[:：]"
    r"|首页\s*(?:>|&gt;|»|＞|>>)"
)
_TOOL_TOKENS = re.compile(
    r"打印本页|打印此页|打印|关闭窗口|关闭本页|关闭|分享到|分享|智能朗读|朗读|字号|字体|"
    r"[大中小](?=\s|$|】)|收藏本页|收藏|纠错|返回顶部|返回|扫一扫|微信|微博|QQ空间|"
    r"上一篇|下一篇|浏览次数|点击数|阅读数|我要评论|评论|繁体|简体|无障碍|"
    # Seen on real pages: 【我要纠错】, 扫一扫在手机打开当前页, 推荐给朋友, 全文打印, 高级搜索.
    r"我要|在手机打开当前页|手机打开|扫码阅读手机版|手机版|推荐给(?:朋友|好友)|文字稿|全文|"
    r"上一页|下一页|高级搜索|搜索|排行榜|short\s*url|"
    r"【|】|\[|\]|[:：|｜/\s·、,，。.]|\d+"
)
_RELATED_HEAD = re.compile(
    r"^[【\[]?(?:推荐阅读|相关阅读|相关新闻|延伸阅读|相关链接|热点排行|猜你喜欢|更多阅读|相关文章|"
    r"热门推荐|精彩推荐|往期回顾|图片新闻)[】\]]?\s*[:：]?$"
)
_FOOTER_STRONG = re.compile(
    r"版权所有|版权声明|ICP[备证]|公网安备|网安备|Copyright|All Rights Reserved|©|"
    r"^主办[:：单]|承办[:：]|运行管理|技术支持[:：]|Produced By|网站标识码|违法和不良信息|"
    r"许可证号?\s*[:：]?\s*\d|网文\s*[\[〔(（]|制作单位[:：]|浏览器|分辨率|best viewed|"
    r"评论正在加载|私隐政策|隐私政策|^short\s*url\s*[:：]|^本文所在版面|版面导航",
    re.I,
)
# Opening a line, a copyright notice is a footer however long the line it starts.
_FOOTER_START = re.compile(r"^(?:copyright|©|版权所有|版权声明)", re.I)
_COPY_NOTICE = re.compile(
    r"未经.{0,8}(?:许可|授权|同意).{0,16}(?:转载|使用|镜像|复制)|转载.{0,24}注明.{0,4}来源"
)
_NAME = rf"[{HAN}·]{{2,4}}"
_NAMES = rf"{_NAME}(?:[\s、,，;；]+{_NAME})*"
# `(?:\s*[:：])?\s*`, not `\s*[:：]?\s*`: two adjacent \s* backtrack quadratically.
_REPORTER = re.compile(
    rf"^[□■◎●▲\s]*(?:[{HAN}]{{0,14}}?)(?:记者|通讯员|文/图|文图|撰稿|摄影|实习生)"
    rf"(?:\s*[:：])?\s*(?P<names>{_NAMES})\s*$"
)
_EDITOR = re.compile(
    rf"^[(（\[【]?\s*(?:责任编辑|责编|编辑|审核|校对|审校|终审|初审|复审|编审)(?:\s*[:：])?\s*"
    rf"(?P<names>{_NAMES})\s*[)）\]】]?$"
)
_SOURCE_LINE = re.compile(r"^(?:文章|信息|稿件)?来源\s*[:：]")
_DATE_IN_LINE = re.compile(r"(?:19|20)?\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}")
_INFO_WORDS = re.compile(r"来源|发布|时间|日期|浏览|作者|编辑|朗读|点击|字号|字体")
_GOV_FIELDS = re.compile(
    r"索引号|文件编号|公开范围|生成日期|体裁分类|公开形式|公开方式|发布机构|成文日期|"
    r"主题分类|发文机关|发文字号|信息类别|有效性|发布日期"
)
_BRAND = re.compile(rf"^(?:手机)?[{HAN}]{{2,8}}(?:网|频道|客户端)$")
_SENTENCE_PUNCT = re.compile(r"[。，,；;！？!?]")


@dataclass
class Cleaned:
    body: list[str]
    boilerplate_lines: int = 0
    spam_blocks: int = 0
    meta_lines: list[str] = field(default_factory=list)  # reporter/editor/source/date lines
    title_lines: int = 0
    removed: list[tuple[str, str]] = field(default_factory=list)  # (kind, line) for debugging


def is_spam(line: str) -> bool:
    """Spam by lexicon density: several strong hits covering much of the line's text."""
    hits = _SPAM_RE.findall(line)
    strong = sum(1 for h in hits if h.lower() in _SPAM_STRONG)
    if strong < 2 or len(hits) < 3:
        return False
    han = han_count(line) or 1
    covered = sum(len(h) for h in hits)
    segments = [s for s in re.split(r"[,，、。|｜\s;；]+", line) if s]
    spammy = sum(1 for s in segments if _SPAM_RE.search(s))
    return covered / han >= 0.3 or (len(segments) >= 3 and spammy / len(segments) >= 0.6)


def strip_spam_segments(line: str) -> tuple[str, bool]:
    """Cut a run of spam segments appended to an otherwise normal line."""
    keep = re.split(r"(?<=[,，、。;；])", line)
    tail: list[str] = []
    while keep and _SPAM_RE.search(keep[-1]):
        tail.append(keep.pop())
    tail.reverse()  # appended from the end: popping into the front would be quadratic
    if len(tail) >= 2 and is_spam("".join(tail)):
        return "".join(keep).rstrip(",， "), True
    return line, False


def is_nav_or_farm(line: str) -> bool:
    parts = [p.strip() for p in _SEPARATORS.split(line)]
    parts = [p for p in parts if p]
    if len(parts) < 4:
        return False
    short = sum(1 for p in parts if len(p) <= 8 and not _SENTENCE_PUNCT.search(p))
    return short / len(parts) >= 0.8


def is_tool_line(line: str) -> bool:
    if len(line) > 40:
        return False
    rest = _TOOL_TOKENS.sub("", line)
    # A bare number (e.g. a notice's closing date "2017519") is content, not a button.
    return rest == "" and bool(re.search(r"[^\W\d]", line))


def is_footer(line: str) -> bool:
    if _COPY_NOTICE.search(line):
        return True
    if _FOOTER_START.search(line):
        return True
    # A long footer block: several of its markers together (主办单位 … 承办单位 … ICP备案).
    return (len(line) <= 120 or len(set(_FOOTER_STRONG.findall(line))) >= 2) and \
        bool(_FOOTER_STRONG.search(line))


def is_info_line(line: str) -> bool:
    """Date/source/byline header lines such as '2020年05月22日08:40 来源:人民网-甘肃频道'."""
    if len(line) > 90:
        return False
    if _SOURCE_LINE.search(line) or _EDITOR.search(line) or _REPORTER.search(line):
        return True
    if len(_GOV_FIELDS.findall(line)) >= 1 and len(line) <= 90 and ("：" in line or ":" in line):
        return True
    if EN_DATE_RE.search(line) and not han_count(line):  # Sunday, March 16th, 2014 | Posted by
        return True
    if _DATE_IN_LINE.search(line):
        rest = _DATE_IN_LINE.sub("", line)
        rest = re.sub(r"\d{1,2}:\d{2}(?::\d{2})?|[日\s:：|｜]", "", rest)
        return bool(_INFO_WORDS.search(line)) or han_count(rest) == 0
    return False


def clean_lines(lines: list[str], title: str | None = None) -> Cleaned:
    """Split extracted lines into body and removed boilerplate / metadata lines.

    Lines should already be repaired (pinyin removed); matching is done on a simplified copy
    so traditional pages hit the same rules.
    """
    out = Cleaned(body=[])
    title_key = re.sub(r"\s+", "", to_simplified(title)) if title else ""
    in_related = False
    n = len(lines)
    for i, line in enumerate(lines):
        # Leading separators (| 我的位置:) say nothing; the rules read what follows them.
        key = to_simplified(line).strip().lstrip("|｜>»\\ ")
        compact = re.sub(r"\s+", "", key)

        def drop(kind: str, line: str = line) -> None:
            out.removed.append((kind, line))
            out.boilerplate_lines += 1

        if not compact:
            continue
        if is_spam(key):
            out.spam_blocks += 1
            kept, cut = strip_spam_segments(line)
            if cut and han_count(kept) >= 10 and not is_spam(kept):
                out.removed.append(("spam", line[len(kept):]))
                line, key = kept, to_simplified(kept).strip()
                compact = re.sub(r"\s+", "", key)
            else:
                out.removed.append(("spam", line))
                continue
        if title_key and i < 6 and len(compact) >= 4 and compact in title_key:
            out.title_lines += 1
            out.removed.append(("title", line))
            continue
        if _RELATED_HEAD.match(compact):
            in_related = True
            drop("related")
            continue
        if in_related:
            if is_nav_or_farm(key) or (len(key) <= 40 and not _SENTENCE_PUNCT.search(key)):
                drop("link-farm")
                continue
            in_related = False
        if is_nav_or_farm(key):
            drop("nav")
            continue
        if _BREADCRUMB.search(key):
            drop("breadcrumb")
            continue
        if is_tool_line(key):
            drop("tools")
            continue
        if is_footer(key):
            drop("footer")
            continue
        if (i < 3 or i >= n - 3) and _BRAND.match(compact):
            drop("brand")
            continue
        if is_info_line(key):
            out.meta_lines.append(key)
            out.removed.append(("meta", line))
            continue
        out.body.append(line)
    return out


def looks_like_listing(lines: list[str]) -> bool:
    """Many short lines that each end (or start) with a date: an index page, not an article."""
    if len(lines) < 5:
        return False
    dated = sum(
        1 for ln in lines
        if len(ln) <= 60 and (re.search(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\)?\]?$", ln)
                              or re.match(r"^\[?\(?\d{4}[-/.]\d{1,2}[-/.]\d{1,2}", ln))
    )
    return dated >= 5 and dated / len(lines) >= 0.5
