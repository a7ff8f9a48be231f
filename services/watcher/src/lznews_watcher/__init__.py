"""lznews policy watch: saved searches (watches) matched against every new article, alerts on
the `alerts` topic, and their delivery to a webhook and daily Markdown digests."""
