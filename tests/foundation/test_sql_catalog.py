"""The catalog-query loader: one .sql file per query, and fragments two queries share
("-- @include _name" lines), expanded once at load; a missing or self-including fragment is an
error at load time, not a broken statement at run time."""

from __future__ import annotations

import pytest

from migrations_app.engines.catalog import query
from targets.engines.catalog import SqlCatalog


def test_a_fragment_is_expanded_where_it_is_included_and_is_no_query_itself(tmp_path):
    (tmp_path / "_cols.sql").write_text("-- shared\n  a, b\n")
    (tmp_path / "_from.sql").write_text("FROM t\n-- @include _where\n")
    (tmp_path / "_where.sql").write_text("WHERE a > 1")
    (tmp_path / "pick.sql").write_text("SELECT\n    -- @include _cols\n-- @include _from\nORDER BY 1\n")
    catalog = SqlCatalog(tmp_path)
    assert catalog.query("pick") == "SELECT\n-- shared\n  a, b\nFROM t\nWHERE a > 1\nORDER BY 1\n"
    with pytest.raises(KeyError):
        catalog.query("_cols")


def test_a_missing_or_self_including_fragment_fails_at_load(tmp_path):
    (tmp_path / "q.sql").write_text("SELECT 1\n-- @include _gone\n")
    with pytest.raises(KeyError, match="_gone"):
        SqlCatalog(tmp_path)
    (tmp_path / "q.sql").write_text("SELECT 1\n-- @include _loop\n")
    (tmp_path / "_loop.sql").write_text("-- @include _loop\n")
    with pytest.raises(ValueError, match="includes itself"):
        SqlCatalog(tmp_path)


def test_the_dependency_queries_share_their_routine_fragments():
    for name in ("dep_analysis", "dep_trigger_writers"):
        text = query(name)
        assert "@include" not in text
        assert "coalesce(p.proconfig, '{}') AS config," in text and "AND p.prosqlbody IS NULL" in text
    assert query("dep_trigger_writers").count("'has_when', t.tgqual IS NOT NULL") == 2
