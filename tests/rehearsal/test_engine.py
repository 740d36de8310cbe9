"""The rehearsal engine on a real staging copy: what ran, which locks it held, what it rewrote,
whether the rollback restored the schema, and the projected production lock time."""

from __future__ import annotations

from migrations_app.engines.statements import MigrationOperation
from migrations_app.engines.rehearsal.rehearse import rehearse_plan


def op(sql: str, rollback: str | None, table: str = "") -> MigrationOperation:
    return MigrationOperation(type="OTHER", table_name=table, sql=sql, rollback_sql=rollback, schema="shop")


PLAN = [
    op("ALTER TABLE shop.orders ADD COLUMN note text", "ALTER TABLE shop.orders DROP COLUMN note", "orders"),
    op("CREATE INDEX customers_email_idx ON shop.customers (email)", "DROP INDEX shop.customers_email_idx", "customers"),
    op("ALTER TABLE shop.events ALTER COLUMN id TYPE numeric", "ALTER TABLE shop.events ALTER COLUMN id TYPE bigint",
       "events"),
]


def test_a_rehearsal_records_locks_rewrites_and_a_rollback_verified_by_the_digest(staging_copy):
    progress = []
    result = rehearse_plan(staging_copy, PLAN, "shop", sample_fraction=0.5, table_fractions={"shop.events": 0.25},
                           progress=progress.append)
    assert result.status == "PASSED", result.error
    assert result.rollback_verified and result.digest_after_rollback == result.digest_before
    assert result.digest_after_forward != result.digest_before
    assert result.digest_after_reapply == result.digest_after_forward  # the copy ends after the plan
    add_column, create_index, alter_type = result.statements
    # The lock each statement acquired on its own table, seen in pg_locks from a second session.
    assert (add_column.lock_mode, add_column.lock_relation, add_column.lock_acquired) == \
        ("AccessExclusiveLock", "shop.orders", True)
    assert (create_index.lock_mode, create_index.lock_relation) == ("ShareLock", "shop.customers")
    assert alter_type.lock_mode == "AccessExclusiveLock"
    # Rewrites come from relfilenode, read inside the migration's transaction.
    assert alter_type.rewritten and alter_type.rewritten_tables == ["shop.events"]
    assert not add_column.rewritten and not create_index.rewritten
    assert all(s.duration_ms is not None and s.duration_ms > 0 for s in result.statements)
    assert {p["phase"] for p in progress} >= {"digest_before", "forward", "rollback", "reapply"}


def test_the_projection_scales_rewrites_by_the_table_fraction_and_keeps_catalog_changes_constant(staging_copy):
    result = rehearse_plan(staging_copy, PLAN, "shop", sample_fraction=0.5, table_fractions={"shop.events": 0.25})
    add_column, create_index, alter_type = result.statements
    assert add_column.projection["projected_ms"] == add_column.duration_ms
    assert create_index.projection["projected_ms"] == round(create_index.duration_ms / 0.5, 3)
    assert alter_type.projection["projected_ms"] == round(alter_type.duration_ms / 0.25, 3)
    # One transaction: the ACCESS EXCLUSIVE lock of statement 1 is held until COMMIT, through the rewrite.
    assert add_column.projection["projected_lock_ms"] == round(
        sum(s.projection["projected_ms"] for s in result.statements), 3)
    projection = result.projection
    assert projection.statement_index == 0 and projection.mode == "ACCESS EXCLUSIVE"
    assert projection.evidence.startswith(
        "rehearsed on a copy holding 50% of the rows of shop.orders: ACCESS EXCLUSIVE on shop.orders held")
    assert "until COMMIT" in projection.evidence and "projected" in projection.evidence


def test_a_rollback_that_leaves_something_behind_fails_the_rehearsal(staging_copy):
    leaky = [op("ALTER TABLE shop.orders ADD COLUMN note text", "SELECT 1", "orders")]
    result = rehearse_plan(staging_copy, leaky, "shop", sample_fraction=0.5)
    assert result.status == "FAILED" and not result.rollback_verified
    assert "rollback not verified" in result.error
    assert result.digest_after_rollback != result.digest_before
    assert any("note" in row for row in result.digest_differences["columns"]["only_after"])
    assert result.reapply is None  # never re-applied on a copy in an unknown state


def test_a_statement_that_fails_on_staging_fails_the_rehearsal_and_leaves_the_copy_as_it_was(staging_copy):
    broken = [op("ALTER TABLE shop.orders ADD COLUMN note text", "ALTER TABLE shop.orders DROP COLUMN note", "orders"),
              op("ALTER TABLE shop.orders ADD COLUMN note text", "ALTER TABLE shop.orders DROP COLUMN note", "orders")]
    result = rehearse_plan(staging_copy, broken, "shop", sample_fraction=0.5)
    assert result.status == "FAILED" and "already exists" in result.error
    assert result.forward["rollback_executed"] and result.rollback is None
    assert result.statements[1].error and "already exists" in result.statements[1].error


def test_a_non_transactional_create_index_concurrently_is_rehearsed_in_autocommit(staging_copy):
    plan = [op("CREATE INDEX CONCURRENTLY events_kind_idx ON shop.events (kind)",
               "DROP INDEX CONCURRENTLY shop.events_kind_idx", "events")]
    result = rehearse_plan(staging_copy, plan, "shop", sample_fraction=0.5)
    assert result.status == "PASSED", result.error
    stmt = result.statements[0]
    assert not stmt.transactional and stmt.txid is None
    assert stmt.projection["projected_lock_ms"] == stmt.projection["projected_ms"]  # held for itself only


def test_a_data_change_without_rollback_sql_is_backed_up_and_its_rollback_verified_for_schema_and_data(staging_copy):
    data_only = [op("DELETE FROM shop.orders WHERE id < 0", None, "orders")]
    result = rehearse_plan(staging_copy, data_only, "shop", sample_fraction=0.5)
    assert result.status == "PASSED" and result.rollback_verified
    assert result.rollback_schema_verified and result.rollback_data_status == "verified"


def test_a_data_change_above_the_backup_limit_passes_on_schema_but_its_rollback_is_not_verified(staging_copy):
    data_only = [op("DELETE FROM shop.orders WHERE id < 0", None, "orders")]
    result = rehearse_plan(staging_copy, data_only, "shop", sample_fraction=0.5, backup_max_bytes=-1)
    assert result.status == "PASSED" and result.rollback_schema_verified
    assert not result.rollback_verified and result.rollback_data_status == "not_restored"
    assert any("not verified for data" in w and "above the backup size limit" in w for w in result.warnings)


def test_a_truncate_cascade_rehearsal_restores_both_tables_and_checks_their_rows(staging_copy):
    with staging_copy.read_only() as conn:
        counts = conn.execute("SELECT (SELECT count(*) FROM shop.customers), (SELECT count(*) FROM shop.orders)").fetchone()
    result = rehearse_plan(staging_copy, [op("TRUNCATE shop.customers CASCADE", None, "customers")], "shop",
                           sample_fraction=0.5)
    assert result.status == "PASSED", result.error
    assert result.rollback_schema_verified and result.rollback_verified
    checked = {c["source"]: c["rows"] for c in result.rollback["data_verification"]["checked"]}
    assert checked == {"shop.customers": counts[0], "shop.orders": counts[1]} and counts[1] > 0
