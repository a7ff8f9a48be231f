"""Known places and organisations: the packaged gazetteer (data/gazetteer.tsv, with aliases),
and countries and China's provinces by their Chinese names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .han import HAN


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
