"""Index layout (DESIGN.md): names derived from the write alias, templates, rollover policies.

Pure data: nothing here talks to a cluster, so tests (e.g. the Kibana field check) can build the
exact template the indexer installs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from lznews_common.settings import Settings

TEMPLATE_VERSION = 1
ENTITY_KINDS = ("organizations", "places", "people", "policy_documents")
# Counters the normaliser reports today; others are mapped as integers by a dynamic template.
QUALITY_COUNTERS = ("pinyin_annotations", "boilerplate_lines", "mojibake_fragments", "spam_blocks")
# Hot-phase rollover conditions (ILM / ISM), sized for a news archive growing slowly.
ROLLOVER_MAX_AGE = "30d"
ROLLOVER_MAX_PRIMARY_SIZE = "30gb"

AnalyzerKind = Literal["smartcn", "ik", "cjk"]


@dataclass(frozen=True)
class IndexNames:
    alias: str

    @property
    def pattern(self) -> str:
        return f"{self.alias}-*"

    @property
    def first_index(self) -> str:
        return f"{self.alias}-000001"

    @property
    def template(self) -> str:
        return self.alias

    @property
    def settings_component(self) -> str:
        return f"{self.alias}-settings"

    @property
    def mappings_component(self) -> str:
        return f"{self.alias}-mappings"

    @property
    def policy(self) -> str:
        return self.alias


def analyzer_params(kind: AnalyzerKind) -> dict[str, str]:
    """Analyzer parameters of the Chinese text fields."""
    if kind == "ik":
        # Index the finest segmentation, search with the coarse one: the usual IK pairing.
        return {"analyzer": "ik_max_word", "search_analyzer": "ik_smart"}
    return {"analyzer": kind}


def mappings(kind: AnalyzerKind) -> dict[str, Any]:
    zh = analyzer_params(kind)
    keyword = {"type": "keyword"}
    return {
        # Strict: a field the contract does not know is a per-item error (dead-lettered),
        # never a silent mapping change.
        "dynamic": "strict",
        "_meta": {"schema": "lznews.article/1", "template_version": TEMPLATE_VERSION},
        "dynamic_templates": [
            {"quality_counters": {"path_match": "quality.*", "mapping": {"type": "integer"}}}
        ],
        "properties": {
            "id": keyword,
            "url": {"type": "keyword", "ignore_above": 2048},
            "canonical_url": {"type": "keyword", "ignore_above": 2048},
            "site": keyword,
            "title": {
                "type": "text",
                **zh,
                "fields": {"keyword": {"type": "keyword", "ignore_above": 512}},
            },
            "published_at": {"type": "date"},
            "source": keyword,
            "authors": keyword,
            "editors": keyword,
            "doc_number": keyword,
            "body": {"type": "text", **zh},
            "original_script": keyword,
            "fetched_at": {"type": "date"},
            "normalized_at": {"type": "date"},
            "pipeline_version": keyword,
            "entities": {
                "properties": {
                    **{k: keyword for k in ENTITY_KINDS},
                    # An object (not nested) array: Kibana can sum and filter value_cny; each
                    # amount's text stays next to it in _source.
                    "amounts": {
                        "properties": {
                            "text": keyword,
                            "value_cny": {"type": "long"},
                        }
                    },
                }
            },
            "quality": {
                "type": "object",
                "dynamic": True,
                "properties": {k: {"type": "integer"} for k in QUALITY_COUNTERS},
            },
            "content_hash": keyword,
            "simhash": keyword,
        },
    }


def index_settings(s: Settings, lifecycle: Literal["ilm", "ism", "none"]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "number_of_shards": s.indexer_index_shards,
        "number_of_replicas": s.indexer_index_replicas,
    }
    names = IndexNames(s.es_alias)
    if lifecycle == "ilm":
        out["index.lifecycle.name"] = names.policy
        out["index.lifecycle.rollover_alias"] = names.alias
    elif lifecycle == "ism":
        out["plugins.index_state_management.rollover_alias"] = names.alias
    return out


def component_templates(
    s: Settings, kind: AnalyzerKind, lifecycle: Literal["ilm", "ism", "none"]
) -> dict[str, dict[str, Any]]:
    names = IndexNames(s.es_alias)
    return {
        names.settings_component: {"settings": index_settings(s, lifecycle)},
        names.mappings_component: {"mappings": mappings(kind)},
    }


def index_template(s: Settings, kind: AnalyzerKind) -> dict[str, Any]:
    names = IndexNames(s.es_alias)
    return {
        "index_patterns": [names.pattern],
        "composed_of": [names.settings_component, names.mappings_component],
        # Above the built-in templates (priority 100 for logs-*-* etc.); a longer alias gets a
        # higher priority, so lznews-articles-v2-* (a reindex target) may overlap
        # lznews-articles-* without the equal-priority conflict Elasticsearch refuses.
        "priority": 200 + len(names.alias),
        "meta": {
            "managed_by": "lznews-indexer",
            "template_version": TEMPLATE_VERSION,
            "analyzer": kind,
        },
    }


def ilm_policy() -> dict[str, Any]:
    return {
        "phases": {
            "hot": {
                "actions": {
                    "rollover": {
                        "max_age": ROLLOVER_MAX_AGE,
                        "max_primary_shard_size": ROLLOVER_MAX_PRIMARY_SIZE,
                    }
                }
            }
        },
        "_meta": {"managed_by": "lznews-indexer"},
    }


def ism_policy(s: Settings) -> dict[str, Any]:
    names = IndexNames(s.es_alias)
    return {
        "policy": {
            "description": "lznews articles: roll the write index over (no deletion: archive)",
            "default_state": "hot",
            "states": [
                {
                    "name": "hot",
                    "actions": [
                        {
                            "rollover": {
                                "min_index_age": ROLLOVER_MAX_AGE,
                                "min_primary_shard_size": ROLLOVER_MAX_PRIMARY_SIZE,
                            }
                        }
                    ],
                    "transitions": [],
                }
            ],
            "ism_template": [
                {"index_patterns": [names.pattern], "priority": 200 + len(names.alias)}
            ],
        }
    }


def field_paths(mapping: dict[str, Any], prefix: str = "") -> set[str]:
    """Every searchable field path of a mapping, multi-fields included (title.keyword)."""
    out: set[str] = set()
    for name, spec in mapping.get("properties", {}).items():
        path = f"{prefix}{name}"
        if "properties" in spec:
            out |= field_paths(spec, f"{path}.")
        else:
            out.add(path)
        for sub in spec.get("fields", {}):
            out.add(f"{path}.{sub}")
    return out
