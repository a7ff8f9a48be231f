"""Contracts shared by the lznews services: messages, settings, Kafka, search, metrics."""
