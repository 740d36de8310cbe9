"""Baseline catalog queries (tables, indexes, pg_stat_statements)."""

from pathlib import Path

from targets.engines.catalog import SqlCatalog

query = SqlCatalog(Path(__file__).parent).query
