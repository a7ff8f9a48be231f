"""lznews indexer: the articles topic into Elasticsearch/OpenSearch, and the search CLI."""

__version__ = "0.1.0"
