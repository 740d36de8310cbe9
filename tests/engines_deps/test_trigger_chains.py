"""Routines that fail because their writes fire a trigger the drop breaks (``trigger_chains``),
checked against PostgreSQL: after the DROP COLUMN, in a transaction that is rolled back,
every routine of the schema is called on tables that have rows; those that fail must be
exactly the FUNCTION dependents the analyzer reports. And against the oracle (``oracle.py``),
which compares every other kind of dependent too."""

import psycopg
import pytest

from migrations_app.engines.dependencies import DependencyAnalyzer, DependencyType
from tests import pg
from tests.engines_deps.oracle import ask_postgresql, exercise, install_static_checks, score, snapshot

SCHEMA = r'''
CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL DEFAULT 0, legacy_flag text, note text);
CREATE TABLE account_audit (account_id int, flag text);
CREATE TABLE ledgers (id int PRIMARY KEY, amount int, note text);
CREATE TABLE events (id int, kind text);
INSERT INTO accounts VALUES (1, 10, 'x', 'n'), (2, 20, 'y', 'm');
INSERT INTO ledgers VALUES (1, 5, 'a');

-- a trigger function that uses the column: every UPDATE of accounts that writes a row fails
CREATE FUNCTION audit_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO account_audit (account_id, flag) VALUES (NEW.id, NEW.legacy_flag);
  RETURN NEW;
END $$;
CREATE TRIGGER accounts_audit AFTER UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION audit_account();

-- one that reads the column of another table, run only by UPDATE OF note on ledgers
CREATE FUNCTION ledger_note_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM accounts WHERE legacy_flag = NEW.note;
  RETURN NEW;
END $$;
CREATE TRIGGER ledgers_note BEFORE UPDATE OF note ON ledgers FOR EACH ROW EXECUTE FUNCTION ledger_note_check();

-- updates accounts without naming the column: fails (its UPDATE fires accounts_audit)
CREATE FUNCTION bump_balance() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE accounts SET balance = balance + 1;
END $$;
-- only reads accounts: keeps working
CREATE FUNCTION total_balance() RETURNS bigint LANGUAGE sql AS $$
  SELECT sum(balance) FROM accounts
$$;
-- inserts into accounts: accounts_audit is an UPDATE trigger, so keeps working
CREATE PROCEDURE open_account(p_id int) LANGUAGE sql AS $$
  INSERT INTO accounts (id) VALUES (coalesce(p_id, 99))
$$;
-- UPDATE OF note does not fire on an UPDATE that sets only amount: keeps working
CREATE FUNCTION set_ledger_amount() RETURNS void LANGUAGE sql AS $$
  UPDATE ledgers SET amount = amount + 1
$$;
-- sets note: fires ledgers_note, fails
CREATE FUNCTION set_ledger_note() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE public.ledgers SET note = 'b';
END $$;

-- a chain: inserting an event fires a statement-level trigger whose function updates accounts
CREATE FUNCTION forward_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE accounts SET balance = balance WHERE id = 1;
  RETURN NULL;
END $$;
-- (AFTER UPDATE too, so that the oracle's firing of every trigger by an UPDATE reaches it)
CREATE TRIGGER events_forward AFTER INSERT OR UPDATE ON events FOR EACH STATEMENT EXECUTE FUNCTION forward_event();
CREATE FUNCTION log_event(p_kind text) RETURNS void LANGUAGE sql AS $$
  INSERT INTO events VALUES (1, p_kind)
$$;
'''

BROKEN = {"audit_account()", "ledger_note_check()", "bump_balance()", "set_ledger_note()", "forward_event()",
          "log_event(p_kind text)"}


@pytest.fixture(scope="module")
def chain_target():
    with pg.throwaway_database(SCHEMA) as target:
        yield target


def _routines_failing_after_drop(target) -> set[str]:
    """Call every routine (and fire every trigger function through its table) after the DROP
    COLUMN, with rows in the tables, each in a subtransaction; all rolled back."""
    calls = {
        "bump_balance()": "SELECT bump_balance()", "total_balance()": "SELECT total_balance()",
        "open_account(p_id integer)": "CALL open_account(7)", "set_ledger_amount()": "SELECT set_ledger_amount()",
        "set_ledger_note()": "SELECT set_ledger_note()", "log_event(p_kind text)": "SELECT log_event('k')",
        "audit_account()": "UPDATE accounts SET note = note",
        "ledger_note_check()": "UPDATE ledgers SET note = note",
        "forward_event()": "INSERT INTO events VALUES (2, 'x')",
    }
    failed = set()
    with target.connect() as conn:
        conn.execute("ALTER TABLE accounts DROP COLUMN legacy_flag CASCADE")
        for name, call in calls.items():
            conn.execute("SAVEPOINT probe")
            try:
                conn.execute(call)
            except psycopg.Error:
                failed.add(name)
            conn.execute("ROLLBACK TO SAVEPOINT probe")
        conn.rollback()
    return failed


def test_routines_whose_writes_fire_a_broken_trigger_are_reported_as_postgresql_fails_them(chain_target):
    failing = _routines_failing_after_drop(chain_target)
    assert failing == BROKEN  # PostgreSQL's own answer, as the schema means it
    report = DependencyAnalyzer(chain_target).analyze_column_dependencies("accounts", "legacy_flag")
    routines = {d.name: d for d in report.dependencies
                if d.type in (DependencyType.FUNCTION, DependencyType.PROCEDURE)}
    assert set(routines) == failing
    assert report.queries_run == 2  # the second round trip: the writers of the trigger tables

    bump = routines["bump_balance()"].reason
    assert bump.startswith("fails when its UPDATE of public.accounts fires trigger accounts_audit, whose function "
                           "public.audit_account() uses the dropped column"), bump
    assert "row-level trigger" in bump and routines["bump_balance()"].line == 3  # PostgreSQL counts the line after $$ as 1
    note = routines["set_ledger_note()"].reason
    assert "trigger ledgers_note, whose function public.ledger_note_check() uses the dropped column" in note
    assert "UPDATE OF note and the statement sets note" in note
    chain = routines["log_event(p_kind text)"].reason
    assert chain.startswith("fails when its INSERT of public.events fires trigger events_forward, whose function "
                            "public.forward_event() fails in turn: when its UPDATE of public.accounts fires trigger "
                            "accounts_audit"), chain
    assert "statement-level trigger" in chain


def test_no_second_round_trip_when_no_trigger_function_breaks(chain_target):
    report = DependencyAnalyzer(chain_target).analyze_column_dependencies("ledgers", "amount")
    assert report.queries_run == 1
    assert {d.name for d in report.dependencies if d.type == DependencyType.FUNCTION} == {"set_ledger_amount()"}


def test_the_oracle_agrees_on_every_column_of_the_schema(chain_target):
    install_static_checks(chain_target)
    with chain_target.connect() as conn:
        baseline = exercise(conn, snapshot(conn))
        subjects = [(s, t, c) for s, t, c in conn.execute("""
            SELECT n.nspname, c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND n.nspname = 'public'
            ORDER BY 1, 2, 3""").fetchall()]
        analyzer = DependencyAnalyzer(conn)
        reports = {(s, t, c): analyzer.analyze_column_dependencies(t, c, s) for s, t, c in subjects}
        conn.rollback()
    answers = {subject: ask_postgresql(chain_target, *subject, baseline) for subject in subjects}
    result = score(subjects, answers, reports)
    assert not result.misses and not result.extras, (result.table_lines(), result.misses, result.extras)
    assert result.expected["FUNCTION"] >= 6
