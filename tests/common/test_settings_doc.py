"""Every LZNEWS_* setting is listed in docs/settings.md, and the env file overrides defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from lznews_common.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


# The generated settings table (python -m lznews_common.settings).
SETTINGS_DOC = ROOT / "docs" / "settings.md"


def test_readme_lists_every_setting() -> None:
    readme = SETTINGS_DOC.read_text()
    missing = [f"LZNEWS_{name.upper()}" for name in Settings.model_fields
               if f"`LZNEWS_{name.upper()}`" not in readme]
    assert not missing, f"docs/settings.md lacks {missing}"


def test_env_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / "stack.env"
    env.write_text("LZNEWS_KAFKA_BOOTSTRAP=127.0.0.1:1111\nLZNEWS_ES_FLAVOR=plain-json\n")
    for key in ("LZNEWS_KAFKA_BOOTSTRAP", "LZNEWS_ES_FLAVOR"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LZNEWS_ENV_FILE", str(env))
    s = load_settings()
    assert (s.kafka_bootstrap, s.es_flavor) == ("127.0.0.1:1111", "plain-json")
    monkeypatch.setenv("LZNEWS_ES_FLAVOR", "elasticsearch")
    assert load_settings().es_flavor == "elasticsearch"
    monkeypatch.setenv("LZNEWS_ES_FLAVOR", "solr")
    with pytest.raises(ValueError):
        load_settings()
