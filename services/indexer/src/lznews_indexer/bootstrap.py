"""Idempotent cluster bootstrap: templates, rollover policy, write alias; all detected, not assumed.

Run at start and again after every reconnect: a cluster that lost its state (an in-memory
stand-in restarted, an index deleted by hand) gets its layout back before the next write.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from elasticsearch import ApiError, BadRequestError, Elasticsearch, NotFoundError

from lznews_common.settings import Settings
from lznews_indexer import templates
from lznews_indexer.templates import AnalyzerKind, IndexNames

log = logging.getLogger(__name__)

Lifecycle = Literal["ilm", "ism", "none"]
_PROBE_TEXT = "兰州市科技局发布支持科技创新若干措施"


class BootstrapError(RuntimeError):
    """The cluster is in a state the indexer must not write into (needs a person)."""


@dataclass
class BootstrapResult:
    analyzer: AnalyzerKind
    lifecycle: Lifecycle
    rollover_api: bool
    created_index: bool
    generation: str | None


def _unsupported(exc: ApiError) -> bool:
    """An endpoint the cluster does not have (no plugin, no handler)."""
    return exc.meta.status in (400, 404, 405, 501)


class Bootstrapper:
    def __init__(self, es: Elasticsearch, settings: Settings) -> None:
        self.es = es
        self.settings = settings
        self.names = IndexNames(settings.es_alias)
        self._lifecycle: Lifecycle | None = None
        self._rollover: bool | None = None

    # --- detection ------------------------------------------------------------------------------

    def detect_analyzer(self) -> AnalyzerKind:
        """Ask the cluster which Chinese analyzer really runs: _analyze, not the plugin list,
        because some servers accept plugin analyzer names in mappings without having them."""
        for kind, name in (("smartcn", "smartcn"), ("ik", "ik_smart")):
            try:
                tokens = self.es.indices.analyze(analyzer=name, text=_PROBE_TEXT)["tokens"]
            except ApiError as exc:
                log.debug("analyzer %s unavailable: %s", name, exc)
                continue
            if tokens:
                return kind  # type: ignore[return-value]
        return "cjk"

    def _put_ilm(self) -> bool:
        try:
            self.es.ilm.put_lifecycle(name=self.names.policy, policy=templates.ilm_policy())
            return True
        except ApiError as exc:
            if not _unsupported(exc):
                log.warning("ILM policy not installed (%s): rollover is manual", exc)
            return False

    def _put_ism(self) -> bool:
        path = f"/_plugins/_ism/policies/{self.names.policy}"
        headers = {"accept": "application/json", "content-type": "application/json"}
        try:
            self.es.perform_request("GET", path, headers=headers)
            return True  # exists; ISM updates need seq_no/primary_term, and ours is static
        except NotFoundError as exc:
            # 404 is either "no such policy" (ISM present) or "no handler" (absent).
            if "no handler" in str(exc):
                return False
        except ApiError as exc:
            if not _unsupported(exc):
                log.warning("ISM policy not readable (%s): rollover is manual", exc)
            return False
        try:
            self.es.perform_request(
                "PUT", path, headers=headers, body=templates.ism_policy(self.settings)
            )
            return True
        except ApiError as exc:
            if exc.meta.status == 409:  # a replica won the race
                return True
            if not _unsupported(exc):
                log.warning("ISM policy not installed (%s): rollover is manual", exc)
            return False

    def ensure_lifecycle(self) -> Lifecycle:
        order = (
            (("ism", self._put_ism), ("ilm", self._put_ilm))
            if self.settings.es_flavor == "plain-json"
            else (("ilm", self._put_ilm), ("ism", self._put_ism))
        )
        for name, put in order:
            if put():
                return name  # type: ignore[return-value]
        if self._lifecycle != "none":
            log.warning(
                "cluster has neither ILM nor ISM: no rollover policy installed; %s stays on "
                "its current write index until rolled over by hand",
                self.names.alias,
            )
        return "none"

    def detect_rollover_api(self) -> bool:
        try:
            self.es.indices.rollover(alias=self.names.alias, dry_run=True)
            return True
        except ApiError as exc:
            if self._rollover is not False:
                log.warning("cluster has no _rollover API (%s); the write alias still works", exc)
            return False

    # --- layout ---------------------------------------------------------------------------------

    def ensure_templates(self, kind: AnalyzerKind, lifecycle: Lifecycle) -> None:
        try:
            current = self.es.indices.get_index_template(name=self.names.template)
            meta = current["index_templates"][0]["index_template"].get("_meta") or {}
            if meta.get("analyzer") not in (None, kind):
                log.warning(
                    "Chinese analyzer changes from %s to %s: new backing indices use %s, "
                    "existing ones keep theirs until reindexed",
                    meta.get("analyzer"),
                    kind,
                    kind,
                )
        except NotFoundError:
            pass
        for name, body in templates.component_templates(self.settings, kind, lifecycle).items():
            self.es.cluster.put_component_template(
                name=name, template=body, meta={"managed_by": "lznews-indexer"}
            )
        self.es.indices.put_index_template(
            name=self.names.template, **templates.index_template(self.settings, kind)
        )

    def ensure_alias(self) -> bool:
        """The write alias over <alias>-000001; True when this call created the index."""
        alias = self.names.alias
        if self.es.indices.exists_alias(name=alias):
            return False
        if self.es.indices.exists(index=alias):
            # Something wrote to the alias name while it did not exist and the cluster
            # auto-created a concrete index: writing on would bypass the template.
            raise BootstrapError(
                f"a concrete index is named {alias!r}; reindex it into the alias and delete it"
            )
        try:
            self.es.indices.create(
                index=self.names.first_index, aliases={alias: {"is_write_index": True}}
            )
            log.info("created %s with write alias %s", self.names.first_index, alias)
            return True
        except BadRequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise
        # A replica created it first, or the first index exists without the alias.
        if not self.es.indices.exists_alias(name=alias):
            self.es.indices.put_alias(
                index=self.names.first_index, name=alias, is_write_index=True
            )
        return False

    def generation(self) -> str | None:
        """Identity of the data behind the alias: the oldest backing index's name and uuid.
        It changes only when that index is recreated, i.e. when indexed data was lost."""
        try:
            got = self.es.indices.get_settings(
                index=self.names.alias, name=["index.uuid", "index.creation_date"]
            )
        except NotFoundError:
            return None
        if not got:
            return None

        def created(item: tuple[str, dict]) -> tuple[int, str]:
            return int(item[1]["settings"]["index"].get("creation_date", 0)), item[0]

        name, body = min(got.body.items(), key=created)
        return f"{name}/{body['settings']['index']['uuid']}"

    def run(self) -> BootstrapResult:
        kind = self.detect_analyzer()
        lifecycle = self.ensure_lifecycle()
        self.ensure_templates(kind, lifecycle)
        created = self.ensure_alias()
        rollover = self.detect_rollover_api()
        if (lifecycle, rollover) != (self._lifecycle, self._rollover):
            log.info(
                "bootstrap: alias=%s analyzer=%s lifecycle=%s rollover_api=%s",
                self.names.alias,
                kind,
                lifecycle,
                rollover,
            )
        self._lifecycle, self._rollover = lifecycle, rollover
        return BootstrapResult(kind, lifecycle, rollover, created, self.generation())
