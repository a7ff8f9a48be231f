"""Index names of the watch feature, derived from the article alias (LZNEWS_ES_ALIAS).

They deliberately do not start with "<alias>-": the indexer's index template matches
`<alias>-*` (strict article mapping) and Kibana's data view `<alias>*`; watches and the alert
ledger must fall under neither.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WatchIndices:
    alias: str

    @property
    def watches(self) -> str:
        return f"lznews-watches.{self.alias}"

    @property
    def ledger(self) -> str:
        return f"lznews-alerts.{self.alias}"

    @property
    def scratch(self) -> str:
        return f"lznews-watch-scratch.{self.alias}"
