"""Crawler test fixtures: the fixture mirror (constructed sites) served on a local port."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lznews_devstack.mirror import MirrorServer

MIRROR = Path(__file__).resolve().parents[2] / "fixtures" / "mirror"
# The tests import their helpers (crawlhelp.py) by name; pytest's importlib mode does not
# put test directories on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def expected() -> dict[str, Any]:
    return json.loads((MIRROR / "expected.json").read_text("utf-8"))


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[MirrorServer]:
    """A private copy of the mirror (tests add articles to it) served on a free port."""
    root = tmp_path / "mirror"
    shutil.copytree(MIRROR, root, ignore=shutil.ignore_patterns("build.py"))
    # Routes serve the fixture articles from beside the mirror (kept once, not copied into it).
    shutil.copytree(MIRROR.parent / "articles", tmp_path / "articles")
    server = MirrorServer(root).start()
    try:
        yield server
    finally:
        server.stop()
