"""The executor's faster paths keep their guarantees: digests read on the lock session (prepared,
generic plans) equal a fresh read and still change on every kind of schema change; the executing
session opened in the background has its guards and is closed when nobody takes it."""

from __future__ import annotations

import time

import psycopg

from migrations_app.engines.execution import MigrationLockManager, schema_digest
from migrations_app.engines.execution.digest import digest_and_snapshot
from migrations_app.engines.execution.schema_snapshot import take_snapshot
from migrations_app.engines.statements import MigrationOperation

# Each change, applied in order to the shop schema, must change the digest of "public".
SCHEMA_CHANGES = [
    ("column added", "ALTER TABLE customers ADD COLUMN email text"),
    ("column type", "ALTER TABLE customers ALTER COLUMN email TYPE varchar(200)"),
    ("column default", "ALTER TABLE customers ALTER COLUMN email SET DEFAULT 'x@example.com'"),
    ("nullability", "UPDATE customers SET email = name || '@example.com'; "
                    "ALTER TABLE customers ALTER COLUMN email SET NOT NULL"),
    ("check constraint", "ALTER TABLE customers ADD CONSTRAINT email_at CHECK (position('@' in email) > 0)"),
    ("constraint validation", "ALTER TABLE orders ADD CONSTRAINT total_pos CHECK (total >= 0) NOT VALID"),
    ("unique constraint", "ALTER TABLE customers ADD CONSTRAINT email_unique UNIQUE (email)"),
    ("index", "CREATE INDEX customers_name_idx ON customers (name)"),
    ("index definition", "DROP INDEX customers_name_idx; CREATE INDEX customers_name_idx ON customers (lower(name))"),
    ("view definition", "CREATE OR REPLACE VIEW customer_totals AS SELECT c.id, sum(o.total) AS total, "
                        "count(*) AS n FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id"),
    ("function", "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$"),
    ("function body", "CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql "
                      "AS $$BEGIN NEW.name := trim(NEW.name); RETURN NEW; END$$"),
    ("trigger", "CREATE TRIGGER customers_touch BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION touch()"),
    ("trigger enabled", "ALTER TABLE customers DISABLE TRIGGER customers_touch"),
    ("sequence", "CREATE SEQUENCE invoice_no START 100"),
    ("sequence parameters", "ALTER SEQUENCE invoice_no INCREMENT BY 5"),
    ("row security", "ALTER TABLE orders ENABLE ROW LEVEL SECURITY"),
    ("policy", "CREATE POLICY own_orders ON orders USING (customer_id > 0)"),
    ("policy expression", "ALTER POLICY own_orders ON orders USING (customer_id > 1)"),
    ("enum", "CREATE TYPE mood AS ENUM ('ok', 'sad')"),
    ("enum label", "ALTER TYPE mood ADD VALUE 'happy'"),
    ("domain", "CREATE DOMAIN positive AS integer CHECK (VALUE > 0)"),
    ("table renamed", "ALTER TABLE orders RENAME TO purchase_orders"),
    ("column renamed", "ALTER TABLE customers RENAME COLUMN legacy_status TO status"),
    ("column dropped", "ALTER TABLE customers DROP COLUMN status"),
]


def op(sql, **kwargs):
    return MigrationOperation(type="SQL", table_name="customers", sql=sql, **kwargs)


def test_the_lock_session_digest_equals_a_fresh_read_and_changes_on_every_kind_of_schema_change(shop):
    manager = MigrationLockManager(shop, owner="pytest")
    seen = {}
    with manager.migration_lock("public", timeout=5) as lock, shop.connect(autocommit=True) as ddl:
        for label, statement in [("start", None), *SCHEMA_CHANGES]:
            if statement:
                ddl.execute(statement)
            on_lock = lock.schema_digest(["public"]).digest  # prepared, generic plans, read again and again
            fresh = schema_digest(shop, ["public"]).digest
            assert on_lock == fresh, label
            assert fresh not in seen, f"{label}: digest equals the one after {seen.get(fresh)}"
            seen[fresh] = label
        # data changes (rows, sequence values) are not schema changes
        ddl.execute("INSERT INTO customers (id, name, email) VALUES (9, 'flo', 'f@example.com')")
        ddl.execute("SELECT nextval('invoice_no')")
        assert lock.schema_digest(["public"]).digest == fresh


def test_digests_read_for_a_caller_holding_the_lock_match_fresh_reads_before_and_after(shop, fast_executor):
    executor = fast_executor(shop)
    before = schema_digest(shop, ["public"]).digest
    with executor.lock_manager.migration_lock("public", timeout=5) as lock:
        result = executor.execute_atomic_migration([op("ALTER TABLE customers ADD COLUMN email text")], lock=[lock])
    assert result.success, result.error_message
    assert result.digest_before == before == result.rollback_plan.digest_before
    assert result.digest_after == schema_digest(shop, ["public"]).digest != before


def test_a_statement_destroying_data_in_another_schema_widens_the_digest_to_it(shop, fast_executor):
    executor = fast_executor(shop)
    before = schema_digest(shop, ["billing", "public"]).digest
    with executor.lock_manager.migration_lock("billing", timeout=5) as billing, \
            executor.lock_manager.migration_lock("public", timeout=5) as public:
        # the caller's locks cover both schemas, the operation names only public
        result = executor.execute_atomic_migration([op("DROP TABLE billing.invoices")], lock=[public, billing])
    assert result.success, result.error_message
    assert result.schemas == ["billing", "public"]
    assert result.digest_before == before
    assert result.digest_after == schema_digest(shop, ["billing", "public"]).digest != before


def test_the_executing_session_has_its_guards_and_the_plans_search_path(shop, fast_executor):
    result = fast_executor(shop, search_path="billing").execute_atomic_migration([op(
        "CREATE TABLE guards AS SELECT current_setting('lock_timeout') AS lock_timeout, "
        "current_setting('statement_timeout') AS statement_timeout, "
        "current_setting('idle_in_transaction_session_timeout') AS idle_timeout, "
        "current_setting('client_connection_check_interval') AS client_check, "
        "current_setting('search_path') AS search_path", schema="billing")])
    assert result.success, result.error_message
    with shop.connect() as conn:
        row = conn.execute("SELECT * FROM billing.guards").fetchone()
    # idle in transaction: 60 s by default, whatever the (15-minute) statement timeout
    assert row == ("200ms", "15min", "1min", "1s", '"billing", public')


def test_the_idle_in_transaction_timeout_is_set_independently_of_the_statement_timeout(shop, fast_executor):
    executor = fast_executor(shop, statement_timeout_ms=3_600_000, idle_in_transaction_timeout_ms=7_000)
    result = executor.execute_atomic_migration([op(
        "CREATE TABLE guards AS SELECT current_setting('statement_timeout') AS statement_timeout, "
        "current_setting('idle_in_transaction_session_timeout') AS idle_timeout")])
    assert result.success, result.error_message
    with shop.connect() as conn:
        assert conn.execute("SELECT * FROM guards").fetchone() == ("1h", "7s")


def test_a_lock_timeout_closes_the_session_opened_in_the_background(shop, fast_executor):
    holder = MigrationLockManager(shop, owner="other worker")
    executor = fast_executor(shop, lock_wait_seconds=0.3, application_name="dataflow-bg-session-test")
    with holder.migration_lock("public", timeout=5):
        result = executor.execute_atomic_migration([op("ALTER TABLE customers ADD COLUMN email text")])
    assert not result.success and "other worker" in result.error_message
    assert result.statement_log == []
    with psycopg.connect(**shop.conninfo_kwargs(), autocommit=True) as conn:
        deadline = time.monotonic() + 5
        while conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                           ["dataflow-bg-session-test"]).fetchone()[0]:
            assert time.monotonic() < deadline, "the background session was left open"
            time.sleep(0.05)


def test_a_parse_error_reports_nothing_ran_and_closes_the_background_session(shop, fast_executor):
    executor = fast_executor(shop, application_name="dataflow-bg-parse-test")
    result = executor.execute_atomic_migration([op("ALTER TABLE customers ADD COLUMN")])
    assert not result.success and result.error_message.startswith("cannot prepare the migration")
    # the session may still be connecting when the parse fails: it is closed as soon as it is
    # open, and a closed session's backend leaves pg_stat_activity a moment later
    with psycopg.connect(**shop.conninfo_kwargs(), autocommit=True) as conn:
        deadline = time.monotonic() + 10
        while True:
            left = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                                ["dataflow-bg-parse-test"]).fetchone()[0]
            if left == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert left == 0


def test_one_read_after_a_run_gives_the_touched_schemas_digest_and_the_whole_database_snapshot(shop):
    """The executor's read after a run (``snapshot_after``) serves the rollback's verification and
    the drift ledger: its digest must equal a read of the touched schemas alone, and its snapshot
    must equal ``take_snapshot`` (every non-system schema, the tool's own left out), on a database
    with objects outside the migration's schema too."""
    with shop.connect(autocommit=True) as ddl:
        ddl.execute("CREATE SCHEMA invoicing; CREATE TABLE invoicing.lines (id int PRIMARY KEY, total numeric);"
                    "CREATE SCHEMA dataflow_scratchpad; CREATE TABLE dataflow_scratchpad.t (id int);"
                    "CREATE VIEW invoicing.big AS SELECT * FROM invoicing.lines WHERE total > 100")
    manager = MigrationLockManager(shop, owner="pytest")
    with manager.migration_lock("public", timeout=5) as lock:
        for touched in (["public"], ["invoicing"], ["invoicing", "public"]):
            digest, snapshot = lock.digest_and_snapshot(touched)
            alone = schema_digest(shop, touched)
            assert (digest.digest, digest.objects) == (alone.digest, alone.objects), touched
            whole = take_snapshot(shop)
            assert (snapshot.digest, snapshot.schemas) == (whole.digest, whole.schemas)
            assert "dataflow_scratchpad" not in snapshot.schemas and {"invoicing", "public"} <= set(snapshot.schemas)
    with shop.connect(autocommit=True) as conn:  # on a plain session too
        again, snapshot = digest_and_snapshot(conn, ["public"])
        assert again.digest == schema_digest(shop, ["public"]).digest and snapshot.digest == take_snapshot(shop).digest


def test_the_executor_reads_the_snapshot_with_its_digest_after_a_run(shop, fast_executor):
    result = fast_executor(shop, snapshot_after=True).execute_atomic_migration([op("CREATE TABLE audit_log (id int)")])
    assert result.success, result.error_message
    assert result.digest_after == schema_digest(shop, ["public"]).digest
    assert result.snapshot_after.digest == take_snapshot(shop).digest
    assert "snapshot_after" not in result.to_dict()  # never stored with the result
    plain = fast_executor(shop).execute_atomic_migration([op("DROP TABLE audit_log")])
    assert plain.success and plain.snapshot_after is None


def test_a_session_opened_ahead_that_the_server_ended_is_replaced_before_anything_runs(shop, fast_executor):
    """The app opens the executing session while it parses the plan and waits for the locks; if the
    server ends that idle session meanwhile (idle_session_timeout, pg_terminate_backend), the run
    takes a new one instead of failing its first statement."""
    executor = fast_executor(shop)
    executor.start_connecting()
    ahead = executor._opening.take()
    executor._opening = type(executor._opening)(lambda: ahead)  # taken again by the run below
    pid = ahead.info.backend_pid
    with shop.connect(autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with shop.connect(autocommit=True) as admin:
            if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                break
        time.sleep(0.05)
    result = executor.execute_atomic_migration([op("CREATE TABLE ahead_replaced (id int)")])
    assert result.success, result.error_message
    assert result.backend_pid != pid and ahead.closed
    with shop.connect(autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('public.ahead_replaced') IS NOT NULL").fetchone()[0]


def test_a_session_opened_ahead_that_no_run_takes_is_closed(shop, fast_executor):
    executor = fast_executor(shop)
    executor.start_connecting()
    pid = executor._opening.take().info.backend_pid
    executor.discard_session()  # the lock timed out, the plan could not be parsed: nothing ran
    deadline = time.monotonic() + 5
    with shop.connect(autocommit=True) as admin:
        while time.monotonic() < deadline and admin.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            time.sleep(0.05)
        assert not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
