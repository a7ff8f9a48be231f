"""The accuracy harness's field scorers (eval/scoring.py) on small realistic inputs."""

from __future__ import annotations

from eval import scoring


def test_norm_converts_script_width_brackets_space_and_case() -> None:
    assert scoring.norm("蘭州市 人民政府　辦公廳") == "兰州市人民政府办公厅"
    assert scoring.norm("兰政办发〔２０１７〕145号") == "兰政办发[2017]145号"
    assert scoring.norm("  Lanzhou  DAILY ") == "lanzhou daily"
    # the normaliser's Taiwan terms apply to traditional text, so 資訊 matches its output 信息
    assert scoring.norm("資訊網路") == scoring.norm("信息网络")


def test_title_exact_and_contains() -> None:
    gold = "郵票 車票 場刊 小冊子 紙品收藏見證香港文化"
    assert scoring.score_title(gold, "邮票车票场刊小册子纸品收藏见证香港文化") == (True, True)
    assert scoring.score_title(gold, "成報新聞(郵票 車票 場刊 小冊子 紙品收藏見證香港文化)") == (
        False, True)
    assert scoring.score_title(gold, None) == (False, False)


def test_date_compares_the_day_in_china_time() -> None:
    assert scoring.score_date("2017-06-07 09:30", "2017-06-07T09:30:00+08:00")
    # 20:00 UTC on the 6th is 04:00 on the 7th in Lanzhou
    assert scoring.score_date("2017-06-07", "2017-06-06T20:00:00Z")
    assert not scoring.score_date("2017-06-07", "2017-06-06T09:00:00+08:00")
    assert scoring.score_date("2017-06-07", "2017年6月7日 09:30")
    assert scoring.score_date(None, None)
    assert not scoring.score_date(None, "2017-06-07")
    assert not scoring.score_date("2017-06-07", None)


def test_source_equality_or_containment() -> None:
    assert scoring.score_source("人民网-甘肃频道", "人民网")
    assert scoring.score_source("蘭州日報", "兰州日报社")
    assert not scoring.score_source("兰州日报", "每日甘肃网")
    assert not scoring.score_source("网", "人民网")  # shorter side under 2 characters
    assert scoring.score_source(None, None)
    assert not scoring.score_source(None, "兰州日报")


def test_split_names_removes_role_words_and_separators() -> None:
    assert scoring.split_names("本报记者 王文嘉 李明") == ["王文嘉", "李明"]
    assert scoring.split_names("作者：张三、李四/赵五; 责任编辑：周婉婷") == [
        "张三", "李四", "赵五", "周婉婷"]
    assert scoring.split_names(None) == []


def test_names_precision_recall() -> None:
    pr = scoring.score_names(["周婉婷", "焦隆"], ["周婉婷", "王文嘉", "周婉婷"])
    assert (pr.tp, pr.pred, pr.gold) == (1, 2, 2)
    total = scoring.PR()
    total.add(pr)
    total.add(scoring.score_names(["鄧厚仁"], ["邓厚仁"]))
    assert (total.tp, total.pred, total.gold) == (2, 3, 3)
    assert total.precision == total.recall == 2 / 3


def test_doc_number() -> None:
    assert scoring.score_doc_number("兰政办发〔2017〕145号", "兰政办发[2017]145号")
    assert scoring.score_doc_number("兰政办发（2017）145号", "兰政办发〔2017〕145号")
    assert not scoring.score_doc_number("兰政办发〔2017〕145号", "兰政办发〔2017〕146号")
    assert scoring.score_doc_number(None, None)
    assert not scoring.score_doc_number(None, "兰政办发〔2017〕145号")


def test_body_kept_and_boilerplate_left() -> None:
    body = "紙上不只是談兵，\n還可以細看香港歷史的變遷。\n成報版權所有"
    keep = ["紙上不只是談兵，還可以細看香港歷史的變遷。", "一個看似普通的發黃舊信封"]
    assert scoring.body_missing(keep, body) == ["一個看似普通的發黃舊信封"]
    assert scoring.body_missing(keep, "") == keep
    drop = ["成報版權所有", "搜尋新聞"]
    assert scoring.body_leftover(drop, body) == ["成報版權所有"]


def test_entities_per_type_and_overall() -> None:
    gold = {"people": ["林铎"], "places": ["兰州", "上海"], "organizations": ["市发改委"]}
    got = {"people": ["林铎"], "places": ["兰州", "兰州市"], "organizations": ["上海"],
           "policy_documents": ["兰州市科技创新条例"]}
    s = scoring.score_entities(gold, got)
    assert (s["people"].tp, s["people"].pred, s["people"].gold) == (1, 1, 1)
    assert (s["places"].tp, s["places"].pred, s["places"].gold) == (1, 2, 2)
    # a right name under the wrong type does not count
    assert (s["organizations"].tp, s["organizations"].pred) == (0, 1)
    assert (s["all"].tp, s["all"].pred, s["all"].gold) == (2, 4, 4)
    assert scoring.score_entities(gold, None)["all"].recall == 0.0
