"""Fixtures for the dependency, foreign-key and rename analyzer tests (real PostgreSQL)."""

from pathlib import Path

import pytest

from tests import pg

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DEMO_SCHEMA = Path(__file__).resolve().parents[2] / "migrations_app" / "demo" / "demo_shop_schema.sql"


@pytest.fixture(scope="module")
def catalog_target():
    """The deps_catalog golden schema, loaded once per module (tests only read it)."""
    with pg.throwaway_database((FIXTURES / "deps_catalog" / "schema.sql").read_text()) as target:
        yield target
