"""Session cache of normalised fixture pages."""

from __future__ import annotations

from typing import Any

import pytest

from lznews_normalizer.pipeline import normalize

from .normalizer_helpers import fixture_raw

_cache: dict[str, dict[str, Any]] = {}


@pytest.fixture(scope="session")
def article():
    """article(name) -> normalised fixture page (computed once per session)."""

    def get(name: str) -> dict[str, Any]:
        if name not in _cache:
            _cache[name] = normalize(fixture_raw(name))
        return _cache[name]

    return get
