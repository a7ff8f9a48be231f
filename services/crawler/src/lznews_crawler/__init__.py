"""lznews crawler: Scrapy spiders, safety middlewares and a Kafka pipeline."""
