"""Pipeline stages as plain functions over (config, store): ingest, analyze, topics, drivers, report."""
