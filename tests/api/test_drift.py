"""Drift: a target changed outside the tool is found by the scheduled check, raises a WARNING
alert and shows a readable diff on its ledger page; a DBA accepts it as the new baseline."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations import drift, ledger
from migrations_app.engines.execution.schema_snapshot import diff_snapshots, take_snapshot
from integrations.models import DriftCheck, DriftFinding, LedgerEntry
from integrations.tasks import check_drift
from migrations_app import execution
from migrations_app.models import Alert, Execution, MigrationPlan
from targets.models import AuditEvent
from tests.factories import ExecutionFactory, MigrationPlanFactory, TargetDatabaseFactory

SCHEMA = """
CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers(id), total numeric);
"""
FILES = [{"path": "db/V1__phone.sql", "content": "ALTER TABLE customers ADD COLUMN phone text;\n"}]


def outside_the_tool(target, sql: str) -> None:
    with target.connection().connect(autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def shop_target(target_db, db):
    return TargetDatabaseFactory.for_connection(target_db(SCHEMA), name="shop")


@pytest.fixture
def executed(dba, token_for, api, shop_target, django_capture_on_commit_callbacks):
    """The shop target after one plan executed through the tool (its ledger entry has a snapshot)."""
    client = api(token_for(dba, "write"))
    with django_capture_on_commit_callbacks(execute=True):
        submitted = client.post("/ci/submit", {"target": "shop", "ref": "main", "files": FILES}).json()
    plan = MigrationPlan.objects.get(pk=submitted["plan"]["id"])
    with django_capture_on_commit_callbacks(execute=True):
        run = execution.start_execution(plan, dba)
    run.refresh_from_db()
    assert run.status == "SUCCEEDED", run.error
    return shop_target


def test_a_change_made_outside_the_tool_raises_a_warning_and_the_ledger_page_shows_the_diff(
        executed, dba, client_for, django_capture_on_commit_callbacks):
    entry = LedgerEntry.objects.get(target=executed)
    assert len(entry.snapshot_digest) == 64 and "public" in entry.schema_snapshot["schemas"]
    assert check_drift() == {"clean": 1}  # what the tool did itself is not drift
    outside_the_tool(executed, """
        CREATE INDEX orders_total_idx ON orders (total);
        ALTER TABLE orders DROP COLUMN total;
        ALTER TABLE customers ALTER COLUMN email DROP NOT NULL;
        CREATE FUNCTION shout(t text) RETURNS text LANGUAGE sql AS $$ SELECT upper(t) $$;
        CREATE SCHEMA dataflow_backup; CREATE TABLE dataflow_backup.rows_kept (id int);
    """)
    with django_capture_on_commit_callbacks(execute=True):
        assert check_drift() == {"drifted": 1}
    finding = DriftFinding.objects.get(target=executed)
    assert finding.status == "open" and finding.reference == entry
    changes = {(c["change"], c["kind"], c["name"]) for c in finding.changes}
    assert changes == {("added", "function", "public.shout(t text)"), ("removed", "column", "public.orders.total"),
                       ("changed", "column", "public.customers.email")}  # the index went with the column
    alert = Alert.objects.get(subject="Schema drift on shop")
    assert alert.severity == "warning" and "public.orders.total" in alert.message and finding.alert == alert
    assert AuditEvent.objects.filter(verb="drift.detected", object_id=str(finding.pk)).exists()

    page = client_for(dba).get(reverse("target_ledger", args=[executed.pk])).content.decode()
    assert "CREATE OR REPLACE FUNCTION public.shout(t text)" in page
    assert "total numeric" in page and "email text NOT NULL" in page and "email text  --" in page
    assert "Accept as the new baseline" in page and "dataflow_backup" not in page.split('id="drift-')[1]

    with django_capture_on_commit_callbacks(execute=True):
        assert check_drift() == {"drifted": 1}
    assert DriftFinding.objects.filter(target=executed).count() == 1  # the same drift: no second alert
    assert Alert.objects.filter(subject="Schema drift on shop").count() == 1


def test_a_dba_accepts_the_drift_as_the_new_baseline_and_the_next_check_is_clean(
        executed, dba, other_dba, manager, engineer, outsider, client_for, django_capture_on_commit_callbacks):
    outside_the_tool(executed, "CREATE INDEX customers_email_idx ON customers (email)")
    with django_capture_on_commit_callbacks(execute=True):
        check_drift()
    finding = DriftFinding.objects.get(target=executed)
    url = reverse("drift_accept", args=[executed.pk, finding.pk])
    for persona in (manager, engineer, outsider):
        assert client_for(persona).post(url, {"reason": "mine"}).status_code == 403
    client_for(dba).post(url, {"reason": ""})
    finding.refresh_from_db()
    assert finding.status == "open"  # a reason is required: nothing was recorded
    response = client_for(other_dba).post(url, {"reason": "index added by hand during incident 42"})
    assert response.status_code == 302
    finding.refresh_from_db()
    baseline = finding.baseline
    assert (finding.status, finding.accepted_by, baseline.is_baseline, baseline.applied_by) == (
        "accepted", other_dba, True, other_dba)
    assert baseline.snapshot_digest == finding.live_digest
    event = AuditEvent.objects.get(verb="drift.accepted")
    assert event.actor == other_dba and event.data["reason"] == "index added by hand during incident 42"
    assert client_for(dba).post(url, {"reason": "again"}).status_code == 302  # refused: no longer open
    assert LedgerEntry.objects.filter(target=executed, is_baseline=True).count() == 1
    assert check_drift() == {"clean": 1}
    assert DriftCheck.objects.get(target=executed).live_digest == baseline.snapshot_digest


def test_a_schema_changed_back_resolves_the_drift_and_a_new_change_replaces_it(
        executed, django_capture_on_commit_callbacks):
    outside_the_tool(executed, "CREATE TABLE scratch (id int)")
    with django_capture_on_commit_callbacks(execute=True):
        check_drift()
    outside_the_tool(executed, "CREATE TABLE scratch2 (id int)")
    with django_capture_on_commit_callbacks(execute=True):
        check_drift()
    first, second = DriftFinding.objects.filter(target=executed).order_by("pk")
    assert (first.status, second.status) == ("superseded", "open")
    assert {c["name"] for c in second.changes} == {"public.scratch", "public.scratch2"}
    assert "CREATE TABLE public.scratch2 (\n  id integer\n)" in [c["after"] for c in second.changes]
    outside_the_tool(executed, "DROP TABLE scratch; DROP TABLE scratch2")
    assert check_drift() == {"clean": 1}
    second.refresh_from_db()
    assert second.status == "resolved"


def test_a_target_with_no_ledger_gets_a_first_snapshot_and_a_running_execution_is_not_drift(
        shop_target, dba, django_capture_on_commit_callbacks):
    assert check_drift() == {"baseline": 1}
    first = LedgerEntry.objects.get(target=shop_target)
    assert first.is_baseline and first.plan is None and "first snapshot" in first.note
    plan = MigrationPlanFactory(target=shop_target, author=dba)
    ExecutionFactory(plan=plan, status=Execution.Status.RUNNING, user=dba)
    outside_the_tool(shop_target, "ALTER TABLE customers ADD COLUMN half_done text")
    assert check_drift() == {"busy": 1}
    assert not DriftFinding.objects.exists()


def test_the_diff_names_each_kind_of_object_with_its_definition(target_db):
    target = target_db("""
        CREATE TABLE t (id int PRIMARY KEY, v text);
        CREATE TYPE mood AS ENUM ('low', 'high');
        CREATE DOMAIN positive AS int CHECK (VALUE > 0);
        CREATE SEQUENCE counter;
        CREATE VIEW tv AS SELECT id FROM t;
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
    """)
    before = take_snapshot(target)
    with target.connect(autocommit=True) as conn:
        conn.execute("""
            CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();
            ALTER TABLE t ENABLE ROW LEVEL SECURITY;
            CREATE POLICY own_rows ON t FOR SELECT USING (id > 0);
            ALTER TYPE mood ADD VALUE 'mid' BEFORE 'high';
            ALTER SEQUENCE counter INCREMENT 5;
            CREATE OR REPLACE VIEW tv AS SELECT id, v FROM t;
            ALTER TABLE t ADD CONSTRAINT v_short CHECK (length(v) < 10) NOT VALID;
            CREATE SCHEMA dataflow; CREATE TABLE dataflow.migration_journal (id int);
            CREATE SCHEMA reports; CREATE UNLOGGED TABLE reports.daily (day date NOT NULL DEFAULT current_date);
        """)
    after = take_snapshot(target)
    assert after.schemas == ["public", "reports"]
    text = diff_snapshots(before, after).as_text()
    for expected in (
            "+ trigger public.t.t_touch", "CREATE TRIGGER t_touch BEFORE UPDATE ON public.t FOR EACH ROW EXECUTE FUNCTION touch()",
            "+ policy public.t.own_rows", "CREATE POLICY own_rows ON public.t AS PERMISSIVE FOR SELECT TO public USING ((id > 0))",
            "~ type public.mood (changed: labels)", "after:  CREATE TYPE public.mood AS ENUM ('low', 'mid', 'high')",
            "~ sequence public.counter", "INCREMENT 5",
            "~ view public.tv (changed: view_definition)",
            "+ constraint public.t.v_short", "CHECK ((length(v) < 10)) NOT VALID", "not validated",
            "~ table public.t (changed: row_security)", "row level security enabled",
            "+ schema reports", "CREATE UNLOGGED TABLE reports.daily (\n      day date NOT NULL DEFAULT CURRENT_DATE\n    )"):
        assert expected in text, (expected, text)
    assert "dataflow" not in text and "migration_journal" not in text
    assert before.digest != after.digest and take_snapshot(target).digest == after.digest


def test_a_ledger_entry_whose_target_cannot_be_read_says_why_it_has_no_snapshot(db, dba):
    target = TargetDatabaseFactory(name="gone", host="127.0.0.1", port=9)
    plan = MigrationPlanFactory(target=target, author=dba)
    run = ExecutionFactory(plan=plan, status=Execution.Status.SUCCEEDED, user=dba)
    entry = ledger.record_execution(run.pk, snapshot=True)
    entry.refresh_from_db()
    assert entry.snapshot_digest == "" and entry.snapshot_note.startswith("no snapshot: cannot connect")
    assert drift.reference_entry(target) is None
    assert check_drift() == {"error": 1}
    assert "cannot connect" in DriftCheck.objects.get(target=target).detail


def test_a_ledger_without_any_snapshot_gets_its_first_one_from_the_check(shop_target, dba):
    plan = MigrationPlanFactory(target=shop_target, author=dba)
    run = ExecutionFactory(plan=plan, status=Execution.Status.SUCCEEDED, user=dba)
    late = ledger.record_execution(run.pk)  # recorded late: no snapshot
    assert late.snapshot_digest == "" and drift.reference_entry(shop_target) is None
    assert check_drift() == {"baseline": 1}
    assert drift.reference_entry(shop_target).is_baseline
    assert check_drift() == {"clean": 1}
