from __future__ import annotations

import json

from lznews_normalizer.cli import guess_site, main

from .normalizer_helpers import FIXTURES, PAGES


def test_cli_prints_article_json(capsys) -> None:
    name = "000_people_gansu.html"
    rc = main([str(FIXTURES / name), "--url", PAGES[name]["url"],
               "--content-type", PAGES[name]["content_type"]])
    out = capsys.readouterr()
    assert rc == 0
    article = json.loads(out.out)
    assert article["site"] == "people_gansu" and article["source"] == "人民网-甘肃频道"
    assert "人民网-甘肃频道" in out.out  # ensure_ascii=False
    assert out.out.startswith("{\n  ")  # indented


def test_cli_not_an_article_exits_2(capsys) -> None:
    rc = main([str(FIXTURES / "007_lzbs_listing.html"), "--url", "http://www.lzbs.com.cn/x"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "not an article" in err


def test_cli_unreadable_file_exits_2(capsys, tmp_path) -> None:
    rc = main([str(tmp_path / "missing.html"), "--url", "http://www.lzbs.com.cn/x"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "cannot read" in err


def test_site_guess() -> None:
    assert guess_site("http://www.lzbs.com.cn/lanzhounews/2025-04/10/c.htm") == "lzbs"
    assert guess_site("http://gansu.people.com.cn/n2/x.html") == "people_gansu"
    assert guess_site("http://big5.china.com.cn/gate/big5/x") == "china_com_cn"


def test_cli_refuses_a_url_that_is_not_http(capsys, tmp_path) -> None:
    page = FIXTURES / next(iter(PAGES))
    for url in ("javascript:alert(1)", "file:///etc/passwd", "http:///no-host", "/relative",
                "http://a.cn/\x1b]0;owned\x07"):
        try:
            main([str(page), "--url", url])
        except SystemExit as exc:
            assert exc.code == 2
        else:
            raise AssertionError(f"{url!r} was accepted")
        err = capsys.readouterr().err
        assert "not an absolute http(s) URL" in err and "Traceback" not in err
