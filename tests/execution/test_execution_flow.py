"""Executing plans through the app: outcome, log, digests, gate re-check, double delivery, rollback."""

from django.utils import timezone

from integrations.models import LedgerEntry
from migrations_app import execution as runner
from migrations_app.engines.execution.schema_snapshot import take_snapshot
from migrations_app.engines.execution import MigrationLockManager
from migrations_app.models import Execution, Incident, MigrationPlan, PlanStatus, SignOff
from migrations_app.tasks import execute_plan
from targets.models import AuditEvent
from tests.execution.conftest import columns

ADD_TWO = "ALTER TABLE customers ADD COLUMN email text;\nALTER TABLE orders ADD COLUMN note text;"


def _run(plan, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        execution = runner.start_execution(plan, user)
    execution.refresh_from_db()
    plan.refresh_from_db()
    return execution


def test_a_low_plan_executes_end_to_end_with_its_log_and_digests(shop, approved_plan, dba, django_capture_on_commit_callbacks):
    plan = approved_plan(shop, ADD_TWO)
    execution = _run(plan, dba, django_capture_on_commit_callbacks)
    assert execution.status == Execution.Status.SUCCEEDED, execution.error
    assert plan.status == PlanStatus.SUCCEEDED
    assert "email" in columns(shop, "customers") and "note" in columns(shop, "orders")
    migration_log = [e for e in execution.statement_log if e["phase"] == "migration"]
    assert [e["sql"] for e in migration_log] == ["ALTER TABLE customers ADD COLUMN email text",
                                                 "ALTER TABLE orders ADD COLUMN note text"]
    assert all(e["sqlstate"] is None and e["duration_ms"] >= 0 for e in migration_log)
    assert execution.digest_before and execution.digest_after and execution.digest_before != execution.digest_after
    assert execution.progress["done"] == 2 and execution.backend_pid and "public" in execution.lock_holder
    assert execution.result["rollback_plan"]["fully_reversible"] is True
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"execution.queued", "execution.started", "execution.succeeded", "plan.execution_started",
            "plan.succeeded"} <= verbs
    assert not Incident.objects.exists()
    assert MigrationLockManager(shop.connection()).check_lock_status("public").is_locked is False
    # the drift ledger keeps the snapshot the executor read right after the run (no second read):
    # the whole database's schema, exactly what take_snapshot reads now
    entry = LedgerEntry.objects.get(execution=execution)
    live = take_snapshot(shop.connection())
    assert (entry.snapshot_digest, entry.schema_snapshot["objects"]) == (live.digest, live.objects)
    assert entry.schema_digest_after == execution.digest_after


def test_a_failing_third_statement_fails_the_plan_with_the_digest_unchanged_and_an_incident_open(
        shop, approved_plan, dba, django_capture_on_commit_callbacks):
    plan = approved_plan(shop, ADD_TWO + "\nALTER TABLE orders ADD COLUMN total numeric;")
    execution = _run(plan, dba, django_capture_on_commit_callbacks)
    assert execution.status == Execution.Status.FAILED and plan.status == PlanStatus.FAILED
    assert execution.rollback_executed is True and execution.sqlstate == "42701"
    assert execution.digest_before == execution.digest_after
    assert "email" not in columns(shop, "customers")
    incident = Incident.objects.get(execution=execution)
    assert incident.status == "open" and incident.severity == "error"
    assert incident.failure_type == Incident.FailureType.EXECUTION_FAILED
    assert incident.tables_affected == ["public.customers", "public.orders"]
    assert any("digest after equals" in a for a in incident.recovery_actions)
    assert incident.alerts.get().status == "skipped"  # no channel configured: skipped, never an error


def test_the_gate_recheck_refuses_a_plan_whose_sign_off_was_voided(shop, approved_plan, dba):
    plan = approved_plan(shop, "ALTER TABLE customers ADD COLUMN email text", risk="MEDIUM")
    execution = runner.start_execution(plan, dba)  # queued on commit, which never comes here
    SignOff.objects.filter(plan=plan).update(voided=True, voided_reason="withdrawn")
    assert execute_plan(execution.pk) == "refused"
    execution.refresh_from_db()
    plan.refresh_from_db()
    assert execution.status == Execution.Status.REFUSED and "review sign-off" in execution.error.lower()
    assert plan.status == PlanStatus.APPROVED
    assert "email" not in columns(shop, "customers")


def test_delivering_the_execute_task_twice_runs_the_migration_once(shop, approved_plan, dba):
    plan = approved_plan(shop, "ALTER TABLE customers ADD COLUMN email text")
    execution = runner.start_execution(plan, dba)
    assert execute_plan(execution.pk) == "succeeded"
    events = AuditEvent.objects.count()
    finished = Execution.objects.get(pk=execution.pk).finished_at
    assert execute_plan(execution.pk) == "already taken"
    assert AuditEvent.objects.count() == events
    assert Execution.objects.get(pk=execution.pk).finished_at == finished
    assert MigrationPlan.objects.get(pk=plan.pk).status == PlanStatus.SUCCEEDED


def test_rolling_back_a_succeeded_execution_restores_the_schema_and_is_verified(
        shop, approved_plan, dba, django_capture_on_commit_callbacks):
    plan = approved_plan(shop, ADD_TWO)
    execution = _run(plan, dba, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        rollback = runner.request_rollback(execution, dba)
    rollback.refresh_from_db()
    plan.refresh_from_db()
    assert rollback.status == Execution.Status.SUCCEEDED, rollback.error
    assert rollback.verified is True and rollback.digest_after == execution.digest_before
    assert plan.status == PlanStatus.ROLLED_BACK
    assert "email" not in columns(shop, "customers")
    # a requested rollback that verified is reported as the success it is: no open incident
    assert not Incident.objects.filter(execution=rollback).exists()
    assert rollback.alerts.get().subject.startswith("Rollback succeeded")


def test_a_schema_lock_held_elsewhere_fails_with_a_lock_timeout_incident_naming_the_holder(
        shop, approved_plan, dba, django_capture_on_commit_callbacks):
    plan = approved_plan(shop, "ALTER TABLE customers ADD COLUMN email text")
    other = MigrationLockManager(shop.connection(), owner="someone-else")
    with other.migration_lock("public"):
        execution = _run(plan, dba, django_capture_on_commit_callbacks)
    assert execution.status == Execution.Status.FAILED and plan.status == PlanStatus.FAILED
    assert "someone-else" in execution.error
    incident = Incident.objects.get(execution=execution)
    assert incident.failure_type == Incident.FailureType.LOCK_TIMEOUT and incident.severity == "warning"


def test_a_failed_concurrent_step_compensates_the_committed_ones_and_ends_rolled_back(
        shop, approved_plan, dba, django_capture_on_commit_callbacks):
    plan = approved_plan(shop, "CREATE INDEX CONCURRENTLY customers_name_idx ON customers (name);\n"
                               "CREATE UNIQUE INDEX CONCURRENTLY orders_customer_uniq ON orders (customer_id);")
    execution = _run(plan, dba, django_capture_on_commit_callbacks)
    assert execution.status == Execution.Status.ROLLED_BACK, execution.error
    assert plan.status == PlanStatus.ROLLED_BACK
    assert execution.digest_after == execution.digest_before  # index dropped again, no INVALID index left
    assert Incident.objects.get(execution=execution).failure_type == Incident.FailureType.COMPENSATED


def test_a_stop_requested_between_statements_runs_nothing_more_and_fails_the_plan(shop, approved_plan, dba, manager):
    # PostgreSQL ignores a cancel that reaches an idle session, so the recorder also checks the
    # stop flag before each attempt and statement and gives up the migration lock.
    plan = approved_plan(shop, ADD_TWO)
    execution = runner.start_execution(plan, dba)
    Execution.objects.filter(pk=execution.pk).update(stop_requested_at=timezone.now(), stop_requested_by=manager)
    assert execute_plan(execution.pk) == "failed"
    execution.refresh_from_db()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.FAILED and execution.error.startswith("Emergency stop by manager_carol")
    assert [e for e in execution.statement_log if e["phase"] == "migration"] == []
    assert "email" not in columns(shop, "customers")
    assert Incident.objects.get(execution=execution).failure_type == Incident.FailureType.EMERGENCY_STOP
    assert MigrationLockManager(shop.connection()).check_lock_status("public").is_locked is False


def test_a_rollback_that_fails_before_any_step_committed_leaves_the_plan_applied_with_a_critical_incident(
        shop, approved_plan, dba, django_capture_on_commit_callbacks):
    plan = approved_plan(shop, ADD_TWO)
    execution = _run(plan, dba, django_capture_on_commit_callbacks)
    with shop.connection().connect(autocommit=True) as conn:  # someone dropped it by hand meanwhile
        conn.execute("ALTER TABLE orders DROP COLUMN note")
    with django_capture_on_commit_callbacks(execute=True):
        rollback = runner.request_rollback(execution, dba)
    rollback.refresh_from_db()
    plan.refresh_from_db()
    # one transaction, rolled back: nothing was undone, so the plan is still applied (not "rollback failed")
    assert rollback.status == Execution.Status.FAILED and plan.status == PlanStatus.SUCCEEDED
    assert "note" not in columns(shop, "orders") and "email" in columns(shop, "customers")
    assert rollback.verified is False or rollback.verified is None
    incident = Incident.objects.get(execution=rollback)
    assert incident.severity == "critical" and incident.failure_type == Incident.FailureType.ROLLBACK_FAILED
    assert incident.alerts.get().severity == "critical"
