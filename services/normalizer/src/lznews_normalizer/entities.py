"""Entities from the cleaned, simplified body: organisations, places, people, policy documents,
amounts. Run on the body only, so link farms and spam never become entities.

The tagger is pluggable (tagger.py); rules on top of it build agency names (市科技局 + 兰州市 ->
兰州市科技局) and catch the names jieba splits (王柠 -> 王/柠) from titles around them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .gazetteer import Gazetteer, gazetteer, world_places
from .han import HAN
from .tagger import MAX_TAGGED_CHARS, Tagger, default_tagger

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
# Titles written before a name (局长王柠), and words after a name that speaks or acts (王柠表示):
# both the title rule and the tagger's person context read them.
PERSON_TITLES = ("局长", "副局长", "书记", "副书记", "主任", "副主任", "市长", "副市长", "省长",
                 "副省长", "区长", "县长", "厅长", "部长", "主席", "院长", "校长", "董事长",
                 "总经理", "负责人", "院士", "教授", "记者", "委员", "代表")
SPEECH_VERBS = ("表示", "介绍", "说", "指出", "强调", "同志", "出席", "主持", "讲话", "调研",
                "要求", "认为", "透露")
_PERSON_PREV = {*PERSON_TITLES, "总书记"}
_PERSON_NEXT = {*SPEECH_VERBS, "书记", "总书记", "局长", "主任", "市长", "省长", "院士", "教授"}

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
