"""Entities from the cleaned, simplified body: organisations, places, people, policy documents,
amounts. Run on the body only, so link farms and spam never become entities.

The tagger (tagger.py: Baidu's LAC by default, pluggable) names people, places and
organisations; the gazetteer adds known bodies and places, and rules on top build agency names
(市科技局 + 兰州市 -> 兰州市科技局), split names the tagger ran together, and drop what only looks
like a name (forms of address, common nouns, pairs of states such as 中美).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import accumulate

from .gazetteer import Gazetteer, gazetteer, world_places
from .han import HAN
from .lexicon import usual_tag
from .tagger import MAX_TAGGED_CHARS, Tagger, default_tagger

ORG_SUFFIXES = (
    "管委会", "委员会", "办公厅", "办公室", "人民政府", "政府", "有限责任公司", "股份有限公司",
    "有限公司", "公司", "集团", "研究院", "研究所", "大学", "学院", "实验室", "中心", "银行",
    "医院", "法院", "法庭", "协会", "联盟", "科技局", "局", "厅", "委", "办", "组织部", "宣传部",
    # National and Hong Kong bodies, branches and schools seen on real pages.
    "部", "署", "学会", "社", "台", "支行", "分行", "分局", "调查队", "小学", "中学", "学校",
    "立法会", "日报", "晚报", "时报", "早报", "商报",
)
# Words that end like an organisation but are verbs or directions (部署, 签署, 北部).
_SUFFIX_NOT_ORG = {"部署", "签署", "总部", "北部", "南部", "东部", "西部", "中部", "内部", "全部",
                   "干部", "局部", "外部", "舞台", "平台", "阳台", "出台"}
# A verb or adverb is never the head of a name (举办 ends like 办, 部署 like 部).
_NOT_HEAD_POS = {"x", "v", "vd", "vn", "d", "ad", "p", "c", "u", "m", "q"}
_CHUNK_POS = {"n", "ns", "nt", "nz", "j", "l", "ng", "nrt", "vn", "b", "an", "s"}
_ANCHOR_POS = {"ns", "nt"}
_ANCHOR_WORDS = {"中共", "中国"}
_CHUNK_STOP = {"相关", "各", "有关", "本", "其", "该", "全市", "全省", "以上", "以下", "部门",
               "单位", "负责人", "工作"}
_GENERIC_ORGS = {"市政府", "区人民政府", "县人民政府", "人民政府", "政府", "公司", "集团", "中心",
                 "大学", "实验室", "商业银行", "重点实验室"}
# A place or organisation name: Han characters, letters and digits (G20, JobsCentral), no
# symbols (box-drawing tables come back from the tagger as "names").
# Characters spaced out for alignment (中 央 宣 传 部, 王　柠 in a list): each Han character
# alone between spaces. A space between words (中国人民银行 工业和信息化部) separates names.
_LETTER_SPACED = re.compile(f"(?<![{HAN}])[{HAN}](?:[ \u3000]{{1,4}}[{HAN}](?![{HAN}]))+")
_SPACES = re.compile("[ \u3000]+")
_COMMON_TAGS = {"n", "v", "vn", "a", "ad", "an", "d", "l", "i", "f"}
# 中美, 中马经贸, 美俄: two states named by one character each are a pair, not a name.
_PAIR_OF_STATES = re.compile("[中美俄日韩朝英法德意马印澳欧越泰][中美俄日韩朝英法德意马印澳欧越泰]"
                             "(?![国])")
_ORG_LAST = "委局部府院会办厅署行司"
_JOIN = re.compile(f"(?<=[{_ORG_LAST}])"
                   f"(?=中共|国家|国务院|[{HAN}]{{2,3}}[省市县区](?:人民政府|政府|党委))")
_NAME_SHAPE = re.compile(f"(?=.*[{HAN}A-Za-z])[{HAN}A-Za-z0-9·（）()&\\-]{{2,40}}")
_NOT_PLACES = {"城市", "上市", "新区", "市区", "城区", "社区", "园区", "景区", "校区", "示范区",
               "试验区", "自创区", "开发区", "高新区", "经济区", "功能区", "街区", "全市", "全省",
               "全区", "全县", "各县", "我市"}
# Titles written before a name (局长王柠), and words after a name that speaks or acts (王柠表示):
# both the title rule and the tagger's person context read them.
PERSON_TITLES = ("局长", "副局长", "书记", "副书记", "主任", "副主任", "市长", "副市长", "省长",
                 "副省长", "区长", "县长", "厅长", "部长", "主席", "院长", "校长", "董事长",
                 "总经理", "负责人", "院士", "教授", "记者", "委员", "代表")
SPEECH_VERBS = ("表示", "介绍", "说", "指出", "强调", "同志", "出席", "主持", "讲话", "调研",
                "要求", "认为", "透露")

SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左"
    "柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应"
    "臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝习"
)
_TITLE_BEFORE = f"(?:{'|'.join((*PERSON_TITLES, '研究员', '同志'))})"
_AFTER_NAME = rf"(?={'|'.join(SPEECH_VERBS)}|[，,。、；;：:（(\s]|$)"
_PERSON_RULES = (
    re.compile(rf"{_TITLE_BEFORE}\s?(?P<n>[{HAN}]{{2,3}}?){_AFTER_NAME}"),
    re.compile(rf"据(?P<n>[{HAN}]{{2,3}}?)(?:介绍|透露|了解)"),
)
# A person's name: 2-4 Han characters, or a transliterated name joined by a middle dot.
_PERSON_SHAPE = re.compile(f"[{HAN}]{{2,4}}|[{HAN}]{{1,12}}(?:[·・][{HAN}]{{1,12}})+")
_ADDRESS_FORMS = ("先生", "小姐", "女士", "太太", "太", "老师", "师傅", "大叔", "大爷", "阿姨",
                  "同学", "大使", "总理", "总统", "首相", "议员", "部长", "厂长", "经理")
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


def _chunk_orgs(tokens: list[tuple[str, str]], starts: list[int], gaz: Gazetteer
                ) -> list[tuple[str, int, int]]:
    """Agency and institution names with their spans: a suffix word (局, 管委会, 有限公司...)
    plus the nouns before it, trimmed to start at a place, an organisation or 省/市/县/区."""
    found = []
    for i, (word, pos) in enumerate(tokens):
        if pos in _NOT_HEAD_POS or not word.endswith(ORG_SUFFIXES) or word in _SUFFIX_NOT_ORG:
            continue
        j = i
        length = len(word)
        while j > 0:
            w, p = tokens[j - 1]
            # An organisation already named ends the walk: two in a row are two names.
            if p not in _CHUNK_POS or p == "nt" or gaz.kind.get(gaz.canonical.get(w, "")) == \
                    "org" or w in _CHUNK_STOP or length + len(w) > 20:
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
            found.append((name, starts[j], starts[i] + len(word)))
    return found


def _people(text: str, tokens: list[tuple[str, str]], known: list[str]) -> list[str]:
    """Names the tagger marks as persons, names after a title (局长王柠表示), and the byline's
    names (known)."""
    names = list(known)
    for rule in _PERSON_RULES:
        for m in rule.finditer(text):
            n = m.group("n")
            if n[0] in SURNAMES and n not in _NOT_PEOPLE:
                names.append(n)
    names.extend(w for w, pos in tokens if pos == "nr" and _is_person(w))
    unique = _dedup(names)
    known_set = set(unique)
    # "和林铎" when "林铎" is known: a conjunction glued to a name.
    return [n for n in unique if not (n[0] in "和与及跟同" and n[1:] in known_set)]


def _is_person(word: str) -> bool:
    """A person the tagger found, unless it is a form of address (李小姐, 何太, 刘某某) rather
    than a name, or not a name's shape (one character, symbols, a whole clause)."""
    return bool(_PERSON_SHAPE.fullmatch(word)) and not word.endswith(_ADDRESS_FORMS) \
        and not word.endswith(PERSON_TITLES) and "某" not in word and word not in _NOT_PEOPLE \
        and not _common_word(word)


def _outermost(names: list[tuple[str, str, int, int]]) -> list[tuple[str, str, int, int]]:
    """Organisations not inside a longer one (人民银行 in 人民银行万载支行, 中共中央 in 中共中央
    政治局): the article names the longer one. Places inside stay (和田地区 in 和田地区策勒县
    巴什玉吉买村党支部 is a place the article is about). Spans of -1 are not compared."""
    spans = sorted({(a, b) for k, _, a, b in names if k == "org" and a >= 0})
    begins = [a for a, _ in spans]
    reach = list(accumulate((b for _, b in spans), max))  # furthest end of spans so far
    longest_at: dict[int, int] = {}
    for a, b in spans:
        longest_at[a] = max(b, longest_at.get(a, b))
    out = []
    for kind, name, a, b in names:
        k = bisect_left(begins, a)  # spans starting before a
        inside = kind == "org" and a >= 0 and (
            (k > 0 and reach[k - 1] >= b) or longest_at.get(a, b) > b)
        if not inside:
            out.append((kind, name, a, b))
    return out


def _split_joined(word: str, gaz: Gazetteer) -> list[tuple[str, int]]:
    """An organisation name the tagger ran into the next one (中国人民银行工业和信息化部,
    中共广州市委广州市人民政府), cut where a known name or 中共/国家 follows an organisation's last
    character; with the offsets of the parts."""
    cuts = [m.start() for m in _JOIN.finditer(word)]
    cuts += [m.start() for m in gaz.pattern.finditer(word)
             if m.start() > 1 and word[m.start() - 1] in _ORG_LAST]
    bounds = [0, *sorted(set(cuts)), len(word)]
    parts = [(word[a:b], a) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
    return parts if all(len(p) >= 3 for p, _ in parts) else [(word, 0)]


def _strip_dateline(word: str) -> str:
    """香港文汇报讯 -> 香港文汇报 (the dateline's 讯 after a paper, an agency or a site), and
    国务院关于 -> 国务院."""
    if word.endswith("关于"):  # 《国务院关于…》: the document's title runs on
        return word[:-2]
    return word[:-1] if len(word) > 3 and word.endswith(("报讯", "社讯", "网讯", "台讯")) else word


class _Resolver:
    """A gazetteer surface form -> the name to report. A relative form (市政府, 省委) is the
    gazetteer's Lanzhou or Gansu body only on a page that names that place (兰州市 in 兰州市人民
    政府); elsewhere it is reported as written (a Guangzhou page's 市委 is Guangzhou's)."""

    def __init__(self, gaz: Gazetteer, text: str) -> None:
        self.gaz = gaz
        found = {gaz.canonical[m.group(0)] for m in gaz.pattern.finditer(text)}
        self.places = [n for n in found if gaz.kind.get(n) == "place"]

    def __call__(self, surface: str) -> str:
        name = self.gaz.canonical.get(surface, surface)
        if surface[0] in "市省县区" and surface != name and \
                not any(p in name for p in self.places):
            return surface
        return name


def _is_place(word: str) -> bool:
    return bool(_NAME_SHAPE.fullmatch(word)) and word not in _NOT_PLACES and \
        word[0] not in "一二三四五六七八九十两各全本我该" and \
        usual_tag(word) not in _COMMON_TAGS - {"n", "f"}  # 新界 and 南岸 are nouns too


def _is_org(word: str) -> bool:
    return bool(_NAME_SHAPE.fullmatch(word)) and word not in _GENERIC_ORGS and \
        not _common_word(word) and not _generic_phrase(word) and not _PAIR_OF_STATES.match(word)


def _generic_phrase(word: str) -> bool:
    """Whether the dictionary reads the word as common words only (金融科技, 新能源汽车,
    规模以上工业企业): a description the tagger took for a name. Longest words first."""
    i = 0
    while i < len(word):
        for k in range(min(6, len(word) - i), 0, -1):
            tag = usual_tag(word[i:i + k])
            if tag:
                break
        else:
            return False  # a character the dictionary does not know: a name's, likely
        if tag not in _COMMON_TAGS and tag not in ("b", "m", "q"):
            return False
        i += k
    return True


def _common_word(word: str) -> bool:
    """A word the dictionary knows as a common noun, verb or adjective (高速公路, 工业园区,
    大陆): the tagger sometimes names these as places or organisations."""
    return usual_tag(word) in _COMMON_TAGS


def extract_entities(body: str, tagger: Tagger | None = None,
                     known_people: list[str] | None = None,
                     staff: list[str] | None = None) -> Entities:
    """Entities of a cleaned simplified body (one paragraph per line). known_people (the
    byline's reporters) are people of the article; staff (its editors) are not."""
    tagger = tagger or default_tagger()
    gaz = gazetteer()
    text = _LETTER_SPACED.sub(lambda m: _SPACES.sub("", m.group()), body)
    tokens = tagger.tag(text[:MAX_TAGGED_CHARS])
    starts = list(accumulate((len(w) for w, _ in tokens), initial=0))
    if starts[-1] != min(len(text), MAX_TAGGED_CHARS):  # a tagger that does not cover the text
        starts = [-1] * len(starts)
    names: list[tuple[str, str, int, int]] = []  # kind, name, span
    resolve = _Resolver(gaz, text)
    for m in gaz.pattern.finditer(text):
        name = resolve(m.group(0))
        if name not in _GENERIC_ORGS:
            names.append((gaz.kind.get(gaz.canonical[m.group(0)], "org"), name, *m.span()))
    names += [("org", n, a, b) for n, a, b in _chunk_orgs(tokens, starts, gaz)]
    world = world_places()
    for (word, pos), a in zip(tokens, starts, strict=False):
        if word in world:
            names.append(("place", word, a, a + len(word)))
        elif pos == "ns" and _is_place(word) and not _PAIR_OF_STATES.match(word):
            names.append(("place", resolve(word), a, a + len(word)))
        elif pos == "nt" and _is_org(word):
            for name, start in _split_joined(_strip_dateline(word), gaz):
                names.append(("org", resolve(name), a + start, a + start + len(name)))
    names = _outermost(names)
    places = [n for k, n, _, _ in names if k == "place"]
    # An organisation that is also a known place (兰州新区) stays a place.
    place_set = set(places)
    orgs = [n for k, n, _, _ in names
            if k == "org" and n not in place_set and gaz.kind.get(n) != "place"]
    return Entities(
        organizations=_dedup(orgs),
        places=_dedup(places),
        # The page's editors sign the page, not the news: not people the article is about.
        people=[n for n in _people(text, tokens, known_people or []) if n not in set(staff or ())],
        policy_documents=policy_documents(body),
        amounts=amounts(body),
    )
