"""A DROP COLUMN's rollback re-adds the column last (PostgreSQL cannot put it back in place): the
schema is verified when the column order is the only difference, and the result says so; any other
difference still fails the check. A trigger dropped before the DROP COLUMN (the dependents
mitigation does that) does not stop the column's values from being backed up."""

from __future__ import annotations

from migrations_app.engines.execution import schema_digest
from migrations_app.engines.execution.digest import reordered_relations
from migrations_app.engines.statements import MigrationOperation

ACCOUNTS = """
CREATE TABLE accounts (id integer PRIMARY KEY, tier text, email text NOT NULL, created_at timestamptz DEFAULT now());
INSERT INTO accounts (id, tier, email) SELECT g, CASE WHEN g % 3 = 0 THEN 'gold' END, 'u' || g || '@x.org'
FROM generate_series(1, 30) AS g;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER accounts_touch BEFORE UPDATE OF email ON accounts FOR EACH ROW EXECUTE FUNCTION touch();
"""


def op(sql, rollback_sql, kind):
    return MigrationOperation(type=kind, table_name="accounts", sql=sql, rollback_sql=rollback_sql)


def test_dropping_a_middle_column_rolls_back_verified_but_for_the_column_order(target_db, fast_executor):
    shop = target_db(ACCOUNTS)
    executor = fast_executor(shop)
    before = schema_digest(shop, ["public"])
    result = executor.execute_atomic_migration([
        op("DROP TRIGGER accounts_touch ON accounts",
           "CREATE TRIGGER accounts_touch BEFORE UPDATE OF email ON public.accounts FOR EACH ROW EXECUTE FUNCTION public.touch()",
           "DROP_TRIGGER"),
        op("ALTER TABLE accounts DROP COLUMN tier", "ALTER TABLE accounts ADD COLUMN tier text", "DROP_COLUMN")])
    assert result.success, result.error_message
    # the trigger dropped first keeps the table's columns: the values of tier are backed up
    assert [b.operation_index for b in result.rollback_plan.backups] == [1]
    assert result.rollback_plan.data_unchecked == []

    undo = executor.execute_rollback_plan(result.rollback_plan)

    assert undo.success, undo.error_message
    after = schema_digest(shop, ["public"])
    assert after.digest != before.digest  # tier came back last
    assert reordered_relations(before.objects, after.objects) == ["public.accounts"]
    assert undo.schema_verified and undo.data_verified and undo.verified
    assert any("column order of public.accounts" in w for w in undo.warnings), undo.warnings
    with shop.read_only() as conn:
        assert conn.execute("SELECT count(*) FROM accounts WHERE tier = 'gold'").fetchone()[0] == 10


def test_any_other_difference_is_not_excused_by_the_column_order(target_db):
    shop = target_db(ACCOUNTS)
    before = schema_digest(shop, ["public"])
    with shop.connect(autocommit=True) as conn:
        conn.execute("ALTER TABLE accounts DROP COLUMN tier")
        conn.execute("ALTER TABLE accounts ADD COLUMN tier varchar(10)")  # another type
    assert reordered_relations(before.objects, schema_digest(shop, ["public"]).objects) == []
    with shop.connect(autocommit=True) as conn:
        conn.execute("ALTER TABLE accounts DROP COLUMN tier")
        conn.execute("ALTER TABLE accounts ADD COLUMN tier text")
        conn.execute("DROP TRIGGER accounts_touch ON accounts")  # and an object missing
    assert reordered_relations(before.objects, schema_digest(shop, ["public"]).objects) == []
    assert reordered_relations(before.objects, before.objects) == []


ORDERS = """
CREATE TABLE orders (id integer PRIMARY KEY, total integer NOT NULL DEFAULT 0);
CREATE TABLE items (order_id integer NOT NULL REFERENCES orders (id), line integer, cents integer,
                    PRIMARY KEY (order_id, line));
CREATE FUNCTION add_total() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN UPDATE orders SET total = total + NEW.cents WHERE id = NEW.order_id; RETURN NEW; END $$;
CREATE TRIGGER items_total AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION add_total();
INSERT INTO orders (id) SELECT g FROM generate_series(1, 20) g;
INSERT INTO items SELECT g, l, 100 * l FROM generate_series(1, 20) g, generate_series(1, 2) l;
"""


def test_restoring_truncated_rows_does_not_fire_the_tables_triggers_again(target_db, fast_executor):
    shop = target_db(ORDERS)
    executor = fast_executor(shop)
    with shop.read_only() as conn:
        totals = conn.execute("SELECT id, total FROM orders ORDER BY id").fetchall()
    assert totals[0] == (1, 300)
    result = executor.execute_atomic_migration([MigrationOperation(
        type="TRUNCATE", table_name="orders", sql="TRUNCATE public.orders, public.items")])
    assert result.success, result.error_message
    assert [s.kind for s in result.rollback_plan.steps if s.kind.startswith("restore_triggers")] == \
        ["restore_triggers_off", "restore_triggers_on"]

    undo = executor.execute_rollback_plan(result.rollback_plan)

    # without turning items_total off, restoring items added 300 to every order again: checksum mismatch
    assert undo.success and undo.data_verified and undo.verified, (undo.error_message, undo.data_verification)
    with shop.read_only() as conn:
        assert conn.execute("SELECT id, total FROM orders ORDER BY id").fetchall() == totals
        assert conn.execute("SELECT tgenabled FROM pg_trigger WHERE tgname = 'items_total'").fetchone() == ("O",)


def test_the_gate_names_the_column_order_a_rehearsal_could_not_restore(db, dba):
    from migrations_app.engines.execution.digest import column_order_note
    from migrations_app.staging_validation import passed_validation
    from tests.factories import MigrationPlanFactory, RehearsalFactory, TargetDatabaseFactory

    plan = MigrationPlanFactory(author=dba, target=TargetDatabaseFactory(name="shop"))
    rehearsal = RehearsalFactory(plan=plan, passed=True, warnings=[column_order_note(["public.customers"])])

    met, detail = passed_validation(plan, full=False)

    assert met
    assert (f"rehearsal #{rehearsal.pk} on {rehearsal.environment.database_name} (50% sample) passed: rollback "
            "schema verified by the digest but for the column order of public.customers; data not checked") == detail
