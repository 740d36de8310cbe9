"""The analysis says, before anything runs, that Execute… cannot back up a DELETE whose WHERE picks
rows at random, and why: in the data-loss finding (and so the risk floor it sets on production),
the risk factor's evidence and the sign-off gate's notice."""

from migrations_app import workflow
from migrations_app.gate import evaluate_gate
from migrations_app.models import AnalysisRun
from migrations_app.plan_sql import script_to_operations
from tests.factories import TargetDatabaseFactory

SCHEMA = ("CREATE TABLE events (id integer PRIMARY KEY, body text NOT NULL);"
          "INSERT INTO events SELECT g, 'e' || g FROM generate_series(1, 20) AS g;")
REASON = ("the WHERE picks rows with LIMIT and calls random(), a volatile function "
          "(no copy taken beforehand can be known to hold the same rows)")


def _analysed(target, dba, capture, sql):
    plan = workflow.create_plan(dba, target=target, title="Trim events",
                                operations=script_to_operations(sql, "public", target))
    with capture(execute=True):
        run = workflow.request_analysis(plan, dba)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    return plan, run


def test_the_analysis_says_a_randomly_picked_delete_cannot_be_backed_up_and_why(
        target_db, dba, django_capture_on_commit_callbacks):
    target = TargetDatabaseFactory.for_connection(target_db(SCHEMA), name="prod-events", environment="production")
    plan, run = _analysed(target, dba, django_capture_on_commit_callbacks,
                          "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY random() LIMIT 5)")
    assert run.report["data_backup"]["backed_up"] == []
    assert run.report["data_backup"]["irreversible"][0]["reasons"] == [REASON]
    finding = next(f for s in run.report["statements"] for f in s["findings"] if f["rule"] == "data-loss-without-backup")
    assert f"Execute… cannot back it up itself: {REASON}" in finding["message"]
    assert finding["evidence"]["executor_backup"] == "none" and finding["severity"] == "error"
    floors = run.report["risk"]["floors"]
    assert any(f["rule"] == "data-loss-without-backup" and f["level"] == "MEDIUM" and REASON in f["reason"]
               for f in floors), floors
    factors = {f["name"]: f for f in run.report["risk"]["factors"]}
    assert factors["no_backup"]["evidence"].endswith("no backup is recorded: the data cannot be restored")
    notices = evaluate_gate(plan).notices
    assert len(notices) == 1 and notices[0].startswith("Irreversible for data") and REASON in notices[0]


def test_the_same_delete_without_the_random_pick_is_backed_up_by_execute(
        target_db, dba, django_capture_on_commit_callbacks):
    target = TargetDatabaseFactory.for_connection(target_db(SCHEMA), name="prod-events", environment="production")
    plan, run = _analysed(target, dba, django_capture_on_commit_callbacks,
                          "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE id % 4 = 0)")
    assert run.report["data_backup"]["irreversible"] == []
    assert [b["source"] for b in run.report["data_backup"]["backed_up"]] == ["public.events"]
    finding = next(f for s in run.report["statements"] for f in s["findings"] if f["rule"] == "data-loss-without-backup")
    assert "Execute… backs up the rows itself" in finding["message"]
    assert finding["evidence"]["executor_backup"] == "all"
    assert evaluate_gate(plan).notices == []
