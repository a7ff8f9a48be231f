"""Line rules for the boilerplate extractors keep: local sites put navigation, share buttons,
link farms, licence footers, injected spam and reporter/editor lines *inside* the article
container, so every extracted line goes through :func:`clean_lines`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .convert import to_simplified
from .dates import EN_DATE_RE
from .han import HAN, han_count
from .labels import CREDIT_LINE, EDITOR_LINE, SOURCE_LINE
from .spam import is_spam, strip_spam_segments

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
    if SOURCE_LINE.search(line) or EDITOR_LINE.search(line) or CREDIT_LINE.search(line):
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
