"""The integration engines' catalog queries (drift: which schemas a snapshot covers)."""

from pathlib import Path

from targets.engines.catalog import SqlCatalog

query = SqlCatalog(Path(__file__).parent).query
