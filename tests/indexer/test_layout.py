"""Index layout: idempotent bootstrap against real osmem, and the Kibana saved objects checked
against the fields the index template really maps."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from lznews_common.search import es_client
from lznews_common.settings import Settings, load_settings
from lznews_indexer import templates
from lznews_indexer.bootstrap import BootstrapError, Bootstrapper
from lznews_indexer.templates import IndexNames

ROOT = Path(__file__).resolve().parents[2]
SAVED_OBJECTS = ROOT / "deploy" / "kibana" / "lznews-saved-objects.ndjson"


def test_bootstrap_is_idempotent(idx_settings: Settings) -> None:
    s = idx_settings
    es = es_client(s)
    names = IndexNames(s.es_alias)
    boot = Bootstrapper(es, s)
    first = boot.run()
    assert first.created_index and first.generation
    # osmem: bigram analysis only, no ILM/ISM, no _rollover; all detected, not assumed.
    assert (first.analyzer, first.lifecycle, first.rollover_api) == ("cjk", "none", False)
    again = Bootstrapper(es, s).run()
    assert not again.created_index and again.generation == first.generation

    aliases = es.indices.get_alias(name=s.es_alias).body
    assert aliases == {names.first_index: {"aliases": {s.es_alias: {"is_write_index": True}}}}
    template = es.indices.get_index_template(name=names.template)["index_templates"][0]
    assert template["index_template"]["index_patterns"] == [names.pattern]
    assert template["index_template"]["composed_of"] == [
        names.settings_component,
        names.mappings_component,
    ]
    mapping = es.indices.get_mapping(index=s.es_alias)[names.first_index]["mappings"]
    assert mapping["properties"]["title"]["analyzer"] == "cjk"
    assert mapping["properties"]["title"]["fields"]["keyword"]["type"] == "keyword"
    assert mapping["properties"]["entities"]["properties"]["amounts"]["properties"][
        "value_cny"
    ] == {"type": "long"}
    assert mapping["properties"]["published_at"]["type"] == "date"
    assert mapping["dynamic"] == "strict"

    # The data behind the alias lost (index deleted): a new generation, so a worker re-reads.
    es.indices.delete(index=names.first_index)
    assert boot.generation() is None
    third = boot.run()
    assert third.created_index and third.generation != first.generation


def test_bootstrap_refuses_a_concrete_index_under_the_alias_name(idx_settings: Settings):
    es = es_client(idx_settings)
    es.indices.create(index=idx_settings.es_alias)  # what an un-aliased write auto-creates
    with pytest.raises(BootstrapError):
        Bootstrapper(es, idx_settings).run()
    es.indices.delete(index=idx_settings.es_alias)


def test_ik_and_smartcn_mappings() -> None:
    assert templates.analyzer_params("ik") == {
        "analyzer": "ik_max_word",
        "search_analyzer": "ik_smart",
    }
    assert templates.mappings("smartcn")["properties"]["body"]["analyzer"] == "smartcn"
    ilm = templates.component_templates(load_settings(), "cjk", "ilm")
    settings = ilm["lznews-articles-settings"]["settings"]
    assert settings["index.lifecycle.rollover_alias"] == "lznews-articles"


# --- Kibana --------------------------------------------------------------------------------

KQL_FIELD = re.compile(r"([A-Za-z_][\w.]*)\s*:")


def _objects() -> list[dict[str, Any]]:
    lines = SAVED_OBJECTS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _fields_used(obj: dict[str, Any]) -> set[str]:
    attrs = obj["attributes"]
    used: set[str] = set()
    if obj["type"] == "index-pattern":
        used.add(attrs["timeFieldName"])
    if obj["type"] == "search":
        used |= set(attrs["columns"])
        used |= {field for field, _ in attrs["sort"]}
    if obj["type"] == "visualization":
        for agg in json.loads(attrs["visState"])["aggs"]:
            if "field" in agg["params"]:
                used.add(agg["params"]["field"])
    source = json.loads(attrs.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON", "{}"))
    query = (source.get("query") or {}).get("query") or ""
    used |= set(KQL_FIELD.findall(query))
    return used


def test_kibana_objects_use_only_fields_of_the_index_template() -> None:
    objects = _objects()
    mapped = templates.field_paths(templates.mappings("cjk"))
    for obj in objects:
        missing = _fields_used(obj) - mapped
        assert not missing, f"{obj['type']} {obj['id']} uses unmapped fields {missing}"
    used = set().union(*(_fields_used(o) for o in objects))
    # The dashboard really covers what the issue asks for.
    assert {"site", "published_at", "entities.organizations", "entities.policy_documents"} <= used
    assert "entities.amounts.value_cny" in used and "doc_number" in used


def test_kibana_objects_are_complete_and_consistent() -> None:
    objects = _objects()
    by_id = {(o["type"], o["id"]): o for o in objects}
    kinds = [o["type"] for o in objects]
    assert kinds.count("index-pattern") == 1 and kinds.count("search") == 1
    assert kinds.count("dashboard") == 1 and kinds.count("visualization") == 4
    pattern = by_id[("index-pattern", "lznews-articles")]["attributes"]["title"]
    assert pattern == "lznews-articles*"
    assert re.fullmatch(pattern.replace("*", ".*"), IndexNames("lznews-articles").first_index)
    for obj in objects:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in by_id, f"{obj['id']} -> missing {ref}"
    dashboard = next(o for o in objects if o["type"] == "dashboard")
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    names = {r["name"] for r in dashboard["references"]}
    assert {p["panelRefName"] for p in panels} == names and len(panels) == 5
    # Aggregating on a field needs doc values: keyword, numeric or date, never analysed text.
    props = templates.mappings("cjk")["properties"]
    for obj in objects:
        if obj["type"] != "visualization":
            continue
        for agg in json.loads(obj["attributes"]["visState"])["aggs"]:
            field = agg["params"].get("field")
            if field:
                spec: dict[str, Any] = {"properties": props}
                for part in field.split("."):
                    spec = spec["properties"][part]
                assert spec["type"] in ("keyword", "long", "integer", "date"), field


def test_versions_order_by_fetch_then_by_normalisation() -> None:
    from datetime import UTC, datetime, timedelta

    from lznews_indexer.bulk import version_of

    t = datetime(2025, 4, 10, 1, 6, 31, 250000, tzinfo=UTC)
    assert version_of(t, t + timedelta(seconds=3)) == version_of(t, t + timedelta(seconds=3))
    assert version_of(t, t + timedelta(days=1)) > version_of(t, t + timedelta(seconds=3))
    # A newer fetch beats any re-normalisation of an older one, even one years later.
    later = t + timedelta(milliseconds=1)
    assert version_of(later, later) > version_of(t, t + timedelta(days=3650))
    assert version_of(datetime(2262, 1, 1, tzinfo=UTC), None) < 2**63
