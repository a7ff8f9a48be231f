from __future__ import annotations

from lznews_normalizer.entities import amounts, extract_entities, gazetteer, policy_documents


class FixedTagger:
    """A stand-in tagger: proves the tagger is pluggable (no jieba involved)."""

    def tag(self, text: str) -> list[tuple[str, str]]:
        return [("兰州市", "ns"), ("科技局", "n"), ("、", "x"), ("张三", "nr"), ("表示", "v")]


def test_amounts_to_integer_yuan() -> None:
    got = {a["text"]: a["value_cny"] for a in amounts(
        "新增销售收入47.15亿元,兑现奖补资金8573.9万元,发放1600万元,投资3.367亿元,"
        "设立2000万元资金池,首期1亿元,成交金额达到70亿元,总投资4500多亿元,780多万元")}
    assert got == {"47.15亿元": 4715000000, "8573.9万元": 85739000, "1600万元": 16000000,
                   "3.367亿元": 336700000, "2000万元": 20000000, "1亿元": 100000000,
                   "70亿元": 7000000000, "4500多亿元": 450000000000, "780多万元": 7800000}
    assert all(isinstance(v, int) for v in got.values())


def test_policy_documents_keep_nested_parentheses_and_drop_aliases() -> None:
    text = ("出台了《兰州市落实强省会战略进一步优化营商环境若干措施(第6号)》。"
            "出台了《创新兰州2025年暨科技成果转化突破年行动方案》(以下简称《方案》)。"
            "《方案》提出……《兰州市支持科技创新若干措施》《兰州市支持科技创新若干措施》")
    assert policy_documents(text) == ["兰州市落实强省会战略进一步优化营商环境若干措施(第6号)",
                                      "创新兰州2025年暨科技成果转化突破年行动方案",
                                      "兰州市支持科技创新若干措施"]


def test_agencies_places_and_people() -> None:
    e = extract_entities(
        "兰州市科技局党组书记、局长王柠表示,市科技局、市发改委、兰州新区管委会和甘肃省科技厅"
        "将联合推进。省委书记林铎同志来兰调研。榆中县、城关区、兰州经开区参加。",
        known_people=["华静"])
    assert {"兰州市科技局", "市科技局", "市发改委", "兰州新区管委会", "甘肃省科技厅"} <= \
        set(e.organizations)
    assert {"榆中县", "城关区", "兰州经济区"} <= set(e.places)  # 经开区 alias -> canonical
    assert e.people[:1] == ["华静"] and {"王柠", "林铎"} <= set(e.people)


def test_link_farm_words_are_not_entities_when_body_is_clean() -> None:
    e = extract_entities("兰州市召开科技工作会议,部署全年重点任务。")
    assert "稻城县" not in e.places and "婷婷" not in e.people


def test_pluggable_tagger() -> None:
    e = extract_entities("兰州市科技局负责人张三表示", tagger=FixedTagger())
    assert "兰州市科技局" in e.organizations and "张三" in e.people


def test_gazetteer_is_packaged_and_simplified() -> None:
    g = gazetteer()
    for name in ("城关区", "七里河区", "西固区", "安宁区", "红古区", "永登县", "皋兰县", "榆中县",
                 "兰州新区", "兰州高新区", "兰州经济区", "白银市"):
        assert g.kind[name] == "place"
    assert g.canonical["兰州经开区"] == "兰州经济区"


def test_countries_and_provinces_by_their_chinese_names() -> None:
    # From the dev set's pages: places outside the local gazetteer and without a 省/市/县 suffix.
    e = extract_entities("木艺彩娃远销新加坡、泰国和美国。来自江苏、新疆和内蒙古的企业参展，"
                         "香港客商也到场洽谈。")
    assert {"新加坡", "泰国", "美国", "江苏", "新疆", "内蒙古", "香港"} <= set(e.places)
    assert not {"木艺", "客商", "企业"} & set(e.places)


def test_ministries_agencies_and_schools_but_not_verbs() -> None:
    e = extract_entities("财政部、公安部和国家统计局联合部署专项行动，新华社记者了解到，"
                         "中国人民银行万载支行与女学街小学签署协议。")
    assert {"财政部", "国家统计局", "新华社"} <= set(e.organizations)
    assert not {"联合部署", "部署", "签署"} & set(e.organizations)
