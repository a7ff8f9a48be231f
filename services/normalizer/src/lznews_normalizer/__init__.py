"""Pure processing pipeline of the lznews normaliser (no Kafka here).

Public entry points: :func:`lznews_normalizer.pipeline.normalize_page` (RawPage -> Article),
:func:`lznews_normalizer.pipeline.normalize` (the same on JSON-shaped dicts) and the exceptions
in :mod:`lznews_normalizer.errors`.
"""

__version__ = "0.1.0"
PIPELINE_VERSION = f"lznews-normalizer/{__version__}"
