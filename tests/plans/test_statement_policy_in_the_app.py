"""The statement policy in the app: the form, every workflow route, the analysis task and the
executor refuse what it refuses, even when the stored rows were edited by hand; bad bytes and
over-size input get a message with the position or the limit; a NUL in a URL is 404."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from django.core.management import call_command
from django.urls import reverse

from migrations_app import workflow
from migrations_app.models import AnalysisRun, Execution, MigrationPlan, PlanOperation, PlanStatus
from migrations_app.tasks import execute_plan, run_plan_analysis
from migrations_app.workflow import WorkflowError, compute_sql_hash
from tests import pg
from tests.execution.conftest import approved_plan, shop, fast_execution  # noqa: F401  (fixtures)
from tests.factories import ExecutionFactory, TargetDatabaseFactory


@pytest.fixture
def target(db):
    return TargetDatabaseFactory()


def _create(client, target, sql):
    return client.post(reverse("plan_create"), {"title": "t", "target": target.pk, "schema": "public", "sql": sql})


def test_the_plan_form_refuses_copy_program_and_saves_nothing(client_for, dba, target):
    response = _create(client_for(dba), target, "ALTER TABLE t ADD COLUMN a int;\nCOPY t FROM PROGRAM 'id';")
    assert response.status_code == 200
    assert "refused by the statement policy" in response.content.decode()
    assert "line 2" in response.content.decode() and not MigrationPlan.objects.exists()


def test_the_plan_form_names_the_position_of_a_nul_byte(client_for, dba, target):
    response = _create(client_for(dba), target, "SELECT 1;\nSELECT\x002;")
    text = response.content.decode()
    assert response.status_code == 200 and "NUL byte" in text and "line 2, position 7" in text
    assert not MigrationPlan.objects.exists()


def test_an_over_size_script_gets_the_limit_not_a_bare_bad_request(client_for, dba, target, settings):
    settings.DATAFLOW_MAX_SCRIPT_BYTES = 10_000
    response = _create(client_for(dba), target, "SELECT 1;\n" * 2_000)
    text = response.content.decode()
    assert response.status_code == 200 and "over the limit of 10,000 bytes" in text and "DATAFLOW_MAX_SCRIPT_BYTES" in text


def test_a_request_body_over_the_upload_limit_says_which_limit(client_for, dba, target, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 5_000
    response = _create(client_for(dba), target, "SELECT 1;\n" * 2_000)
    assert response.status_code == 400 and b"DATAFLOW_MAX_SCRIPT_BYTES" in response.content


@pytest.mark.parametrize("url", ["/staging/%00/", "/plans/%00/", "/plans/?q=%00", "/audit/?verb=a%00b"])
def test_a_nul_in_any_url_is_not_found(client_for, dba, url):
    assert client_for(dba).get(url).status_code == 404


def test_every_workflow_route_refuses_a_refused_statement(dba, target):
    plan = workflow.create_plan(dba, target=target, title="ok", operations=[
        {"type": "ADD_COLUMN", "table": "t", "sql": "ALTER TABLE t ADD COLUMN a int"}])
    with pytest.raises(WorkflowError, match="refused"):
        workflow.add_operations(plan, dba, [{"type": "SET", "sql": "SET lock_timeout = 0"}], at_start=True)
    with pytest.raises(WorkflowError, match="refused"):
        workflow.add_operation(plan, dba, type="ADD_COLUMN", sql="ALTER TABLE t ADD COLUMN b int",
                               rollback_sql="DROP DATABASE other_db")
    with pytest.raises(WorkflowError, match="refused"):
        workflow.create_plan(dba, target=target, title="bad", operations=[{"type": "OTHER", "sql": "RESET ALL"}])
    assert [op.sql for op in plan.operations.all()] == ["ALTER TABLE t ADD COLUMN a int"]


def _edit_by_hand(plan, sql, rollback_sql=""):
    """What someone with write access to the app database could do: bypass every form."""
    PlanOperation.objects.filter(plan=plan).update(sql=sql, rollback_sql=rollback_sql)
    MigrationPlan.objects.filter(pk=plan.pk).update(sql_hash=compute_sql_hash(plan.operations.all()))
    AnalysisRun.objects.filter(plan=plan).update(sql_hash=MigrationPlan.objects.get(pk=plan.pk).sql_hash)
    # ... and store the analyses' digests again (an unkeyed hash anyone can recompute), so the gate's
    # check of the stored analysis passes and the executor's statement policy is the last line
    for run in AnalysisRun.objects.filter(plan=plan, digest__gt=""):
        workflow.store_summary_and_digest(run)
    plan.refresh_from_db()


def test_the_executor_refuses_a_hand_edited_copy_program_and_runs_nothing(shop, approved_plan, dba, tmp_path):
    plan = approved_plan(shop, "ALTER TABLE customers ADD COLUMN email text")
    marker = tmp_path / f"pwned-{uuid.uuid4().hex}"
    _edit_by_hand(plan, f"COPY customers TO PROGRAM 'touch {marker}'")
    execution = ExecutionFactory(plan=plan, user=dba)
    execute_plan(execution.pk)
    execution.refresh_from_db()
    assert execution.status in (Execution.Status.FAILED, Execution.Status.REFUSED)
    assert "refused by the statement policy" in execution.error
    assert not marker.exists() and not [e for e in execution.statement_log if e.get("phase") == "migration"]


def test_the_executor_refuses_a_hand_edited_rollback_that_drops_another_database(shop, approved_plan, dba):
    plan = approved_plan(shop, "ALTER TABLE customers ADD COLUMN email text")
    _edit_by_hand(plan, "ALTER TABLE customers ADD COLUMN email text", rollback_sql="DROP DATABASE postgres")
    execution = ExecutionFactory(plan=plan, user=dba)
    execute_plan(execution.pk)
    execution.refresh_from_db()
    assert "refused" in execution.error
    with shop.connection().read_only() as conn:
        assert not conn.execute("SELECT 1 FROM information_schema.columns WHERE column_name = 'email'").fetchall()


def test_the_analysis_task_refuses_hand_edited_rows(shop, dba):
    plan = workflow.create_plan(dba, target=shop, title="t", operations=[
        {"type": "ADD_COLUMN", "table": "customers", "sql": "ALTER TABLE customers ADD COLUMN e text"}])
    _edit_by_hand(plan, "DO $$ BEGIN EXECUTE 'ALTER SYSTEM SET fsync = off'; END $$")
    run = workflow.request_analysis(plan, dba)
    run_plan_analysis(run.pk)
    run.refresh_from_db()
    plan.refresh_from_db()
    assert run.status == AnalysisRun.Status.FAILED and "refused by the statement policy" in run.error
    assert plan.status == PlanStatus.FAILED


RENAME_SCHEMA = """
CREATE TABLE orders (id int PRIMARY KEY, total numeric);
""" + "\n".join(f"CREATE FUNCTION f{i}() RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT count(*) FROM orders); END $$;"
                for i in range(7))


def test_a_rename_that_breaks_seven_functions_is_high_and_fails_ci_at_medium(target_db, tmp_path, capsys):
    target = target_db(RENAME_SCHEMA)
    path = tmp_path / "rename.sql"
    path.write_text("ALTER TABLE orders RENAME TO orders_v2;\n")
    with pytest.raises(SystemExit) as exc:
        call_command("lint_migration", str(path), "--dsn", pg.dsn(target), "--fail-on", "MEDIUM")
    out = capsys.readouterr().out
    assert exc.value.code == 1
    assert "risk: HIGH" in out and "renamed-table-referenced-by-functions" in out and "7 function(s)" in out


def test_the_lint_command_refuses_invalid_utf8_and_nul_from_standard_input():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dataflow_site.settings"}
    for data, message in ((b"SELECT 1;\n\xff\xfe", "not valid UTF-8"), (b"SELECT 1;\x00DROP TABLE t;", "NUL byte")):
        done = subprocess.run([sys.executable, "manage.py", "lint_migration", "-"], input=data, capture_output=True,
                              env=env, timeout=60)
        assert done.returncode == 2 and message in done.stderr.decode(), done.stderr


def test_a_longer_statement_timeout_is_a_reviewed_plan_field_that_voids_sign_offs(shop, approved_plan, dba,
                                                                                 client_for):
    from migrations_app.execution import build_executor
    from migrations_app.models import SignOff

    plan = approved_plan(shop, "ALTER TABLE customers ADD COLUMN email text", risk="MEDIUM")
    assert SignOff.objects.filter(plan=plan, voided=False).exists()
    response = client_for(dba).post(reverse("plan_edit_details", args=[plan.pk]), {
        "title": plan.title, "description": "", "statement_timeout_seconds": 3600})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.statement_timeout_seconds == 3600 and plan.status == PlanStatus.DRAFT
    assert not SignOff.objects.filter(plan=plan, voided=False).exists()
    execution = Execution(plan=plan, user=dba)
    assert build_executor(execution).statement_timeout_ms == 3_600_000
    assert "statement timeout 3600 s" in client_for(dba).get(plan.get_absolute_url()).content.decode()
