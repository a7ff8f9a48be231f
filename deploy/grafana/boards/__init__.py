"""The Grafana dashboards as grafanalib objects: one module per dashboard, shared panel helpers.

deploy/grafana/dashboards.py writes render()'s output to deploy/grafana/dashboards/. Modules
import each other relatively so the package loads both as `boards` (the script) and as
`deploy.grafana.boards` (tests/deploy).
"""

from __future__ import annotations

from .assemble import DASHBOARDS, render

__all__ = ["DASHBOARDS", "render"]
