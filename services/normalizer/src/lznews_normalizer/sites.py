"""Which crawler site a page URL belongs to, from the crawler's own site list, so that the two
never disagree: the file LZNEWS_CRAWLER_SITES_FILE names, else the list bundled with the
crawler distribution where it is installed (without either: no site list).

Services import only lznews_common, so the file is read here (YAML, or JSON, which is YAML),
and only what is needed of it: each site's name and allowed_domains.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from lznews_common.settings import settings
from lznews_common.startup import SetupError

Sites = tuple[tuple[str, tuple[str, ...]], ...]  # (name, allowed domains) in file order


def _bundled() -> Path | None:
    """The crawler's data/sites.yaml, located without importing (running) the crawler."""
    spec = importlib.util.find_spec("lznews_crawler")
    folders = (spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder, "data", "sites.yaml")
        if path.is_file():
            return path
    return None


@lru_cache(maxsize=4)
def _read(path: Path) -> Sites:
    try:
        doc = yaml.safe_load(path.read_text("utf-8"))
        defaults = doc.get("defaults") or {}
        return tuple((str(entry["name"]),
                      tuple(d.lower() for d in {**defaults, **entry}["allowed_domains"]))
                     for entry in doc["sites"])
    except (OSError, yaml.YAMLError, AttributeError, KeyError, TypeError) as exc:
        detail = " ".join(str(exc).split())  # YAML errors span lines; the message is one
        raise SetupError(f"cannot read the site list {path}: {detail}") from exc


def site_list() -> Sites:
    configured = settings().crawler_sites_file
    path = Path(configured) if configured else _bundled()
    return _read(path) if path else ()


def guess_site(url: str) -> str:
    """The key of the site whose allowed_domains hold the URL's host (as the crawler matches
    them), else the host itself, else "unknown"."""
    host = (urlsplit(url).hostname or "").lower()
    for name, domains in site_list():
        if any(host == d or host.endswith("." + d) for d in domains):
            return name
    return host or "unknown"
