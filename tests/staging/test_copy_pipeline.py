"""The copy pipeline's fast paths against real PostgreSQL: page-level sampling, the closure's
edge order, binary COPY, the libpq relay's error handling and the second session."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from psycopg import sql

from staging_app.engines.copy_stream import relay
from staging_app.engines.sampling import SampleSet, load_tables
from tests import pg

CHAIN = """
CREATE TABLE t5 (id int PRIMARY KEY);
CREATE TABLE t4 (id int PRIMARY KEY, up int REFERENCES t5);
CREATE TABLE t3 (id int PRIMARY KEY, up int REFERENCES t4);
CREATE TABLE t2 (id int PRIMARY KEY, up int REFERENCES t3);
CREATE TABLE t1 (id int PRIMARY KEY, up int REFERENCES t2);
INSERT INTO t5 SELECT g FROM generate_series(1, 500) g;
INSERT INTO t4 SELECT g, g FROM generate_series(1, 500) g;
INSERT INTO t3 SELECT g, g FROM generate_series(1, 500) g;
INSERT INTO t2 SELECT g, g FROM generate_series(1, 500) g;
INSERT INTO t1 SELECT g, g FROM generate_series(1, 500) g;
ANALYZE;
"""

TYPES = """
CREATE TYPE mood AS ENUM ('calm', 'busy');
CREATE DOMAIN positive AS int CHECK (VALUE > 0);
CREATE TABLE builtin (id bigint PRIMARY KEY, at timestamptz, amount numeric(12, 3), doc jsonb, tags text[],
                      blob bytea, span interval, addr inet, big positive, flag boolean, ratio float8);
CREATE TABLE custom (id int PRIMARY KEY, feeling mood);
INSERT INTO builtin SELECT g, timestamptz '2024-02-29 12:34:56.789+02' + g * interval '1 hour', g * 1.125,
       jsonb_build_object('n', g, 'nested', jsonb_build_array(g, 'x')), ARRAY['a' || g, NULL, 'b'],
       decode(md5(g::text), 'hex'), make_interval(days => g), ('10.0.' || g % 256 || '.1')::inet, g,
       g % 2 = 0, g / 7.0
FROM generate_series(1, 300) g;
INSERT INTO builtin (id) VALUES (0);
INSERT INTO custom SELECT g, (ARRAY['calm', 'busy'])[1 + g % 2]::mood FROM generate_series(1, 50) g;
"""


def _copy(manager, source, fraction, **kwargs):
    env = manager.create_staging_environment(source, fraction, sample_seed=kwargs.pop("seed", 3))
    result = manager.replicate_production_schema(env.staging_id, **kwargs)
    return result, source.for_database(env.database_name)


def _digest(conn, table: str) -> str:
    return conn.execute(sql.SQL("SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {} AS t").format(
        sql.Identifier(*table.split(".")))).fetchone()[0]


def test_page_level_sampling_keeps_foreign_keys_valid_and_repeats_with_the_seed(make_manager, source_db):
    manager = make_manager(sampling_method="SYSTEM")
    first, a = _copy(manager, source_db, 0.3, seed=11)
    second, b = _copy(manager, source_db, 0.3, seed=11)
    assert first.sampling_method == "SYSTEM"
    assert first.foreign_keys_replicated == 10 and first.warnings == []  # created after the load, so validated
    assert first.rows_sampled == second.rows_sampled and first.total_rows_sampled > 0
    with a.connect() as ca, b.connect() as cb:
        rows = "SELECT array_agg(order_id ORDER BY order_id, sku) FROM shop.order_items"
        assert ca.execute(rows).fetchone() == cb.execute(rows).fetchone()


def test_the_closure_follows_a_chain_of_tables_in_one_pass(make_manager, target_db):
    source = target_db(CHAIN)
    result, staging = _copy(make_manager(), source, 0.1, tables_filter=["t1"])
    assert result.closure_passes == 1  # children's edges run before their parents'
    assert result.foreign_keys_replicated == 4 and result.warnings == []
    sampled = result.rows_sampled["public.t1"]
    assert sampled > 0
    assert all(result.rows_sampled[f"public.t{i}"] == sampled for i in range(2, 6))
    assert result.parent_rows_added == {f"public.t{i}": sampled for i in range(2, 6)}
    with staging.connect() as conn:
        assert conn.execute("SELECT count(*) FROM t5").fetchone()[0] == sampled


def test_rows_of_every_builtin_type_arrive_intact_in_binary_and_user_types_in_text(make_manager, target_db):
    source = target_db(TYPES)
    with source.connect() as conn:
        binary = {t.name: t.binary_copy for t in load_tables(conn)}
        expected = {name: _digest(conn, f"public.{name}") for name in binary}
    assert binary == {"builtin": True, "custom": False}
    result, staging = _copy(make_manager(), source, 1.0)  # a whole copy, split over both sessions
    assert result.rows_sampled == {"public.builtin": 301, "public.custom": 50}
    with staging.connect() as conn:
        assert {name: _digest(conn, f"public.{name}") for name in binary} == expected


def test_a_masked_table_travels_in_text_so_fixed_values_reach_any_column_type(make_manager, target_db):
    source = target_db(TYPES)
    rules = {"builtin.span": {"strategy": "fixed", "value": "2 days"}, "builtin.tags": "null"}
    result, staging = _copy(make_manager(), source, 1.0, masking_rules=rules)
    assert result.masked_columns == {"public.builtin": ["span", "tags"]}
    with staging.connect() as conn:
        assert conn.execute("SELECT DISTINCT span, tags FROM builtin").fetchall() == [(dt.timedelta(days=2), None)]


def test_relay_raises_the_server_error_mid_stream_and_both_sessions_stay_usable():
    target = pg.create_database("CREATE TABLE sink (n int);")
    try:
        with target.connect() as src, target.connect() as dst:
            failing = sql.SQL("COPY (SELECT CASE WHEN g = 90000 THEN 1 / (g - g) ELSE g END FROM generate_series(1, 100000) g) "
                              "TO STDOUT")
            with pytest.raises(psycopg.errors.DivisionByZero):
                relay(src, dst, failing, sql.SQL("COPY sink FROM STDIN"))
            src.rollback()
            dst.rollback()
            rows = relay(src, dst, sql.SQL("COPY (SELECT g FROM generate_series(1, 70000) g) TO STDOUT"),
                         sql.SQL("COPY sink FROM STDIN"))
            dst.commit()
            assert rows == 70000
            assert dst.execute("SELECT count(*), sum(n) FROM sink").fetchone() == (70000, 70000 * 70001 // 2)
            assert src.execute("SELECT 1").fetchone() == (1,)
    finally:
        pg.drop_database(target.dbname)


TREE = """
CREATE TABLE nodes (id int PRIMARY KEY, parent_id int REFERENCES nodes, label text NOT NULL);
CREATE TABLE visits (id int PRIMARY KEY, node_id int NOT NULL REFERENCES nodes);
-- chains of 40 nodes: each node's parent is the one before it, every 40th node is a root
INSERT INTO nodes SELECT g, CASE WHEN g % 40 = 1 THEN NULL ELSE g - 1 END, 'node ' || g
FROM generate_series(1, 20000) g;
INSERT INTO visits SELECT g, (g * 7919) % 20000 + 1 FROM generate_series(1, 3000) g;
ANALYZE;
"""


@pytest.mark.parametrize("index_lookups", [True, False])
def test_a_self_reference_forty_levels_deep_is_closed(make_manager, target_db, monkeypatch, index_lookups):
    """With the parent key-index lookups the self reference is followed to its root in one
    statement (one closure pass instead of one per level); both ways land the same rows."""
    monkeypatch.setattr(SampleSet, "parent_index_lookups", index_lookups)
    monkeypatch.setattr(SampleSet, "index_lookup_min_pages", 0)  # the test table is small
    source = target_db(TREE)
    result, staging = _copy(make_manager(), source, 0.05, seed=5, tables_filter=["visits"])
    assert result.foreign_keys_replicated == 2 and result.warnings == []  # created after the load: validated
    assert result.closure_passes == 1 if index_lookups else result.closure_passes > 3
    with source.connect() as src, staging.connect() as conn:
        visited = conn.execute("SELECT array_agg(node_id ORDER BY id) FROM visits").fetchone()[0]
        assert visited
        # Exactly the visited nodes and all their ancestors, computed on production.
        expected = src.execute("WITH RECURSIVE up AS (SELECT * FROM nodes WHERE id = ANY(%s) "
                               "UNION SELECT n.* FROM nodes n JOIN up ON n.id = up.parent_id) "
                               "SELECT count(*), count(*) FILTER (WHERE parent_id IS NULL) FROM up",
                               [visited]).fetchone()
        landed = conn.execute("SELECT count(*), count(*) FILTER (WHERE parent_id IS NULL) FROM nodes").fetchone()
        assert landed == expected
        assert expected[0] > 3 * len(set(visited))  # more than 3 levels above a visited node on average
        assert conn.execute("SELECT count(*) FROM nodes c WHERE c.parent_id IS NOT NULL AND NOT EXISTS "
                            "(SELECT 1 FROM nodes p WHERE p.id = c.parent_id)").fetchone()[0] == 0
    assert result.rows_sampled["public.nodes"] == expected[0]
