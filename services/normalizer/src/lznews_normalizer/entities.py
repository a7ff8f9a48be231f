"""Entities from the cleaned, simplified body: organisations, places, people, policy documents,
amounts. Run on the body only, so link farms and spam never become entities.

The tagger is pluggable (:class:`Tagger`); the default wraps jieba's POS tagger with the
gazetteer loaded as user words. Rules on top of it build agency names (市科技局 + 兰州市 ->
兰州市科技局) and catch the names jieba splits (王柠 -> 王/柠) from titles around them.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Protocol

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

# The POS tagger reads at most MAX_TAGGED_CHARS of a body (the regex rules read all of it), and
# jieba's HMM, which finds words outside the dictionary (new names), at most HMM_BUDGET of
# those: it costs about 0.25 ms a character on text that forms no dictionary words, so one
# paragraph of 60,000 such characters took 30 s. Real articles send it a few hundred.
MAX_TAGGED_CHARS = 100_000
HMM_BUDGET = 2_500
PIECE = 1_000  # text tagged per call: bounds how far one paragraph can overrun the HMM budget
# Characters jieba joins into one block; a piece ending after any other character is tagged
# exactly as it is inside the whole text.
_BLOCK_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+#&._\r")


class Tagger(Protocol):
    def tag(self, text: str) -> list[tuple[str, str]]:
        """Split text into (word, POS) pairs using the ICTCLAS-style tags jieba uses
        (ns place, nr person, nt organisation, n noun, v verb, x punctuation...)."""
        ...


# --- gazetteer ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gazetteer:
    canonical: dict[str, str]  # surface form -> canonical name
    kind: dict[str, str]  # canonical name -> "place" | "org"
    pattern: re.Pattern[str]


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    text = resources.files("lznews_normalizer").joinpath("data/gazetteer.tsv").read_text("utf-8")
    canonical: dict[str, str] = {}
    kind: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        name, typ = cols[0].strip(), cols[1].strip()
        kind[name] = typ
        canonical[name] = name
        if len(cols) > 2:
            for alias in cols[2].split(","):
                if alias.strip():
                    canonical[alias.strip()] = name
    alts = sorted(canonical, key=len, reverse=True)
    return Gazetteer(canonical, kind, re.compile("|".join(map(re.escape, alts))))


_PROVINCE_SUFFIX = re.compile(r"(?:壮族|回族|维吾尔)?(?:自治区|特别行政区)$|[省市]$")


@lru_cache(maxsize=1)
def world_places() -> frozenset[str]:
    """Countries and regions (ISO 3166-1) and China's provinces (ISO 3166-2:CN) by their
    Chinese names from pycountry's translations, provinces also without 省/市/自治区."""
    import gettext

    import pycountry

    def zh(domain: str) -> gettext.NullTranslations:
        return gettext.translation(domain, pycountry.LOCALES_DIR, languages=["zh_CN"],
                                   fallback=True)

    countries, regions = zh("iso3166-1"), zh("iso3166-2")
    names = set()
    for c in pycountry.countries:
        for attr in ("name", "common_name"):
            if hasattr(c, attr):
                names.add(countries.gettext(getattr(c, attr)))
    for s in pycountry.subdivisions.get(country_code="CN") or []:
        name = regions.gettext(s.name)
        names |= {name, _PROVINCE_SUFFIX.sub("", name)}
    return frozenset(n for n in names if len(n) >= 2 and re.fullmatch(f"[{HAN}]+", n))


# --- default tagger -----------------------------------------------------------------------------


class JiebaTagger:
    """jieba POS tagging with a private dictionary (the global jieba state is left alone)."""

    def __init__(self) -> None:
        import logging

        import jieba
        import jieba.posseg

        jieba.setLogLevel(logging.WARNING)
        self._tokenizer = jieba.Tokenizer()
        self._tokenizer.check_initialized()
        gaz = gazetteer()
        for surface, name in gaz.canonical.items():
            self._tokenizer.add_word(surface, freq=2000, tag="ns" if gaz.kind[name] == "place"
                                     else "nt")
        self._pos = jieba.posseg.POSTokenizer(self._tokenizer)
        self._lock = threading.Lock()

    def tag(self, text: str) -> list[tuple[str, str]]:
        """(word, POS) pairs; past HMM_BUDGET characters of HMM work, dictionary words only."""
        out: list[tuple[str, str]] = []
        hmm_left = HMM_BUDGET
        with self._lock:  # jieba's lazy structures are not thread-safe
            if len(text) <= HMM_BUDGET:  # the HMM cannot read more than all of it
                return [(p.word, p.flag) for p in self._pos.cut(text)]
            for piece in pieces(text, PIECE):
                hmm = hmm_left > 0
                tokens = [(p.word, p.flag) for p in self._pos.cut(piece, HMM=hmm)]
                if hmm:
                    hmm_left -= self._hmm_chars(tokens)
                out.extend(tokens)
        return out

    def _hmm_chars(self, tokens: list[tuple[str, str]]) -> int:
        """Characters the HMM read, as jieba chooses them: runs of 2+ Han characters that the
        dictionary could only cut into single characters (the HMM's output is rarely a
        dictionary word, so runs of single or unknown words show where it ran)."""
        used = run = 0
        freq = self._tokenizer.FREQ
        for word, _ in tokens:
            if (len(word) == 1 or not freq.get(word)) and "\u4e00" <= word[:1] <= "\u9fd5":
                run += len(word)
                continue
            used += run if run >= 2 else 0
            run = 0
        return used + (run if run >= 2 else 0)

    def freq(self, word: str) -> int:
        return self._tokenizer.FREQ.get(word, 0)


def _joins(c: str) -> bool:
    return c in _BLOCK_CHARS or "\u4e00" <= c <= "\u9fd5"  # jieba's Han range


def pieces(text: str, size: int) -> list[str]:
    """`text` cut into pieces of at most `size` characters, each cut made after a character
    jieba does not join into a word block (punctuation, space, newline) when the piece has one:
    then tagging the pieces one by one gives the tokens of tagging the whole text."""
    out, start, n = [], 0, len(text)
    while start < n:
        end = min(start + size, n)
        if end < n:
            cut = end
            while cut > start and _joins(text[cut - 1]):
                cut -= 1
            end = cut if cut > start else end  # no separator at all: a hard cut
        out.append(text[start:end])
        start = end
    return out


_default: JiebaTagger | None = None
_default_lock = threading.Lock()


def default_tagger() -> JiebaTagger:
    global _default
    with _default_lock:
        if _default is None:
            _default = JiebaTagger()
        return _default


# --- rules ---------------------------------------------------------------------------------------

ORG_SUFFIXES = (
    "管委会", "委员会", "办公厅", "办公室", "人民政府", "政府", "有限责任公司", "股份有限公司",
    "有限公司", "公司", "集团", "研究院", "研究所", "大学", "学院", "实验室", "中心", "银行",
    "医院", "法院", "法庭", "协会", "联盟", "科技局", "局", "厅", "委", "办", "组织部", "宣传部",
    # National and Hong Kong bodies, branches and schools seen on real pages.
    "部", "署", "学会", "社", "台", "支行", "分行", "分局", "调查队", "小学", "中学", "学校",
    "立法会",
)
# Words that end like an organisation but are verbs or directions (部署, 签署, 北部).
_SUFFIX_NOT_ORG = {"部署", "签署", "总部", "北部", "南部", "东部", "西部", "中部", "内部", "全部",
                   "干部", "局部", "外部", "舞台", "平台", "阳台", "出台"}
_CHUNK_POS = {"n", "ns", "nt", "nz", "j", "l", "ng", "nrt", "vn", "b", "an", "s"}
_ANCHOR_POS = {"ns", "nt"}
_ANCHOR_WORDS = {"中共", "中国"}
_CHUNK_STOP = {"相关", "各", "有关", "本", "其", "该", "全市", "全省", "以上", "以下", "部门",
               "单位", "负责人", "工作"}
_GENERIC_ORGS = {"市政府", "区人民政府", "县人民政府", "人民政府", "政府", "公司", "集团", "中心",
                 "大学", "实验室", "商业银行", "重点实验室"}
_PLACE_SUFFIX = re.compile(f"[{HAN}]{{2,8}}[省市县区州镇乡村]")
_NOT_PLACES = {"城市", "上市", "新区", "市区", "城区", "社区", "园区", "景区", "校区", "示范区",
               "试验区", "自创区", "开发区", "高新区", "经济区", "功能区", "街区", "全市", "全省",
               "全区", "全县", "各县", "我市"}
_PERSON_PREV = set(
    "局长 副局长 书记 副书记 主任 副主任 市长 副市长 省长 副省长 区长 县长 厅长 部长 主席 院长 "
    "校长 董事长 总经理 负责人 院士 教授 记者 总书记 委员 代表".split()
)
_PERSON_NEXT = set(
    "表示 介绍 说 指出 强调 同志 出席 主持 讲话 调研 要求 书记 总书记 局长 主任 市长 省长 院士 "
    "教授 认为 透露".split()
)

SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左"
    "柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应"
    "臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝习"
)
_TITLE_BEFORE = (
    r"(?:局长|副局长|书记|副书记|主任|副主任|市长|副市长|省长|副省长|区长|县长|厅长|部长|主席|"
    r"院长|校长|董事长|总经理|负责人|院士|教授|研究员|记者|同志|代表|委员)"
)
_AFTER_NAME = (
    r"(?=表示|介绍|说|指出|强调|同志|出席|主持|讲话|调研|要求|认为|透露"
    r"|[，,。、；;：:（(\s]|$)"
)
_PERSON_RULES = (
    re.compile(rf"{_TITLE_BEFORE}\s?(?P<n>[{HAN}]{{2,3}}?){_AFTER_NAME}"),
    re.compile(rf"据(?P<n>[{HAN}]{{2,3}}?)(?:介绍|透露|了解)"),
)
_NOT_PEOPLE = set(
    "表示 介绍 同志 记者 相关 负责 全市 全省 近年 目前 来兰 高新 新区 科技 了解 悉 "
    "据悉 创新 关于 方面 万元 亿元 华为 金城 安宁 文化 应用".split()
)

_BOOK = re.compile(r"《([^《》]{1,120})》")
_ALIAS = re.compile(r"简称\s*[“\"]?\s*《([^《》]{1,30})》")
# At most 16 digits (10^16 yuan is past any budget): a run of 500,000 digits before 元 made a
# Decimal that int() refused to convert.
_AMOUNT = re.compile(
    r"(?<![\d.])(?P<num>\d{1,16}(?:\.\d{1,8})?)(?P<approx>多|余)?"
    r"(?P<unit>万亿|千亿|百亿|亿|千万|百万|万|千)?(?P<approx2>多|余)?元"
)
_UNITS = {None: 1, "千": 10**3, "万": 10**4, "百万": 10**6, "千万": 10**7, "亿": 10**8,
          "百亿": 10**10, "千亿": 10**11, "万亿": 10**12}


@dataclass
class Entities:
    organizations: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    policy_documents: list[str] = field(default_factory=list)
    amounts: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, list]:
        return {
            "organizations": self.organizations,
            "places": self.places,
            "people": self.people,
            "policy_documents": self.policy_documents,
            "amounts": self.amounts,
        }


def _dedup(items: list[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def policy_documents(text: str) -> list[str]:
    """Titles inside 《》, full (nested parentheses kept); aliases from 简称《X》 dropped."""
    aliases = set(_ALIAS.findall(text))
    docs = _dedup([d.strip() for d in _BOOK.findall(text)])
    # A short title that ends a longer one (《方案》 after 《…平台方案》) is a back-reference.
    # (A set of endings, not a scan of all titles per title: pages can hold thousands.)
    endings = {o[-k:] for o in docs for k in range(1, 5) if len(o) > k}
    return [d for d in docs if d not in aliases and not (len(d) <= 4 and d in endings)]


def amounts(text: str) -> list[dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for m in _AMOUNT.finditer(text):
        try:
            value = Decimal(m.group("num")) * _UNITS[m.group("unit")]
        except (InvalidOperation, KeyError):
            continue
        out.setdefault(m.group(0), {"text": m.group(0), "value_cny": int(value)})
    return list(out.values())


def _chunk_orgs(tokens: list[tuple[str, str]], gaz: Gazetteer) -> list[str]:
    """Agency and institution names: a suffix word (局, 管委会, 有限公司...) plus the nouns
    before it, trimmed to start at a place, an organisation or 省/市/县/区."""
    found = []
    for i, (word, pos) in enumerate(tokens):
        if pos == "x" or not word.endswith(ORG_SUFFIXES) or word in _SUFFIX_NOT_ORG:
            continue
        j = i
        length = len(word)
        while j > 0:
            w, p = tokens[j - 1]
            if p not in _CHUNK_POS or w in _CHUNK_STOP or length + len(w) > 20:
                break
            j -= 1
            length += len(w)
        while j < i:
            w, p = tokens[j]
            if p in _ANCHOR_POS or w in _ANCHOR_WORDS or w in gaz.canonical or w[0] in "省市县区":
                break
            j += 1
        if j == i and pos != "nt" and word not in gaz.canonical and word[0] not in "省市县区":
            continue
        name = "".join(w for w, _ in tokens[j: i + 1])
        if len(name) >= 3 and name not in _GENERIC_ORGS:
            found.append(name)
    return found


def _people(text: str, tokens: list[tuple[str, str]], known: list[str]) -> list[str]:
    """Names from title rules (局长王柠表示) and jieba person tags seen in a person context."""
    names = list(known)
    for rule in _PERSON_RULES:
        for m in rule.finditer(text):
            n = m.group("n")
            if n[0] in SURNAMES and n not in _NOT_PEOPLE:
                names.append(n)
    for k, (word, pos) in enumerate(tokens):
        if pos != "nr" or not 2 <= len(word) <= 3 or word[0] not in SURNAMES:
            continue
        prev = tokens[k - 1][0] if k else ""
        nxt = tokens[k + 1][0] if k + 1 < len(tokens) else ""
        if (prev in _PERSON_PREV or nxt in _PERSON_NEXT) and word not in _NOT_PEOPLE:
            names.append(word)
    unique = _dedup(names)
    known_set = set(unique)
    # "和林铎" when "林铎" is known: a conjunction glued to a name.
    return [n for n in unique if not (n[0] in "和与及跟同" and n[1:] in known_set)]


def extract_entities(body: str, tagger: Tagger | None = None,
                     known_people: list[str] | None = None) -> Entities:
    """Entities of a cleaned simplified body (one paragraph per line)."""
    tagger = tagger or default_tagger()
    gaz = gazetteer()
    tokens = tagger.tag(body[:MAX_TAGGED_CHARS])
    places: list[str] = []
    orgs: list[str] = []
    for m in gaz.pattern.finditer(body):
        name = gaz.canonical[m.group(0)]
        (places if gaz.kind[name] == "place" else orgs).append(name)
    orgs.extend(_chunk_orgs(tokens, gaz))
    world = world_places()
    for word, pos in tokens:
        if word in world:
            places.append(word)
        elif pos == "ns" and word not in gaz.canonical and word not in _NOT_PLACES and \
                _PLACE_SUFFIX.fullmatch(word) and word[0] not in "一二三四五六七八九十两各全本我该":
            places.append(word)
    # An organisation that is also a known place (兰州新区) stays a place.
    place_set = set(places)
    orgs = [o for o in orgs if o not in place_set and gaz.kind.get(o) != "place"]
    return Entities(
        organizations=_dedup(orgs),
        places=_dedup(places),
        people=_people(body, tokens, known_people or []),
        policy_documents=policy_documents(body),
        amounts=amounts(body),
    )
