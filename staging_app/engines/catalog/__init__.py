"""Staging catalog queries (copies, markers, sampling)."""

from pathlib import Path

from targets.engines.catalog import SqlCatalog

query = SqlCatalog(Path(__file__).parent).query
