"""The plan engines' catalog queries (dependencies, risk, rollback, execution, lock, digest)."""

from pathlib import Path

from targets.engines.catalog import SqlCatalog

query = SqlCatalog(Path(__file__).parent).query
