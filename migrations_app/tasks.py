"""django-q2 tasks: thin wrappers over engines. They take ids, never objects or secrets."""

from migrations_app.data_backup import backup_preview
from migrations_app.engines.plan_analysis import analyze_plan
from migrations_app.review_policies import policy_for_target
from migrations_app.execution import run_execution, run_rollback
from migrations_app.execution_monitor import monitor_executions as monitor
from migrations_app.incidents import deliver
from migrations_app.models import AnalysisRun, Rehearsal
from migrations_app.rehearsals import run_rehearsal
from migrations_app.workflow import finish_analysis


def run_plan_analysis(analysis_run_id: int) -> str:
    """Analyse one AnalysisRun. Safe to deliver twice: only the delivery that moves the run from
    QUEUED to RUNNING does any work."""
    run = AnalysisRun.objects.select_related("plan__target").get(pk=analysis_run_id)
    if not run.claim(progress={"step": "starting", "done": 0, "total": 0}):
        return "already taken"
    try:
        report = analyse(run)
    except Exception as exc:  # the engines fail closed; the user sees the exact error
        finish_analysis(run, None, error=f"{exc.__class__.__name__}: {exc}")
        return "failed"
    if report.get("refused"):  # stored rows edited past the form: the analysis refuses them too
        finish_analysis(run, None, error="refused by the statement policy: " + "; ".join(report["refused"]))
        return "refused"
    finish_analysis(run, report)
    return "done"


def analyse(run) -> dict:
    plan = run.plan
    operations = list(plan.operations.all())

    def progress(step: str, done: int, total: int) -> None:
        run.set_progress({"step": step, "done": done, "total": total})

    # what Execute… backs up itself (read-only against the target): the data-loss findings say it,
    # and the gate says what a rollback could not restore
    preview = backup_preview(plan)
    report = analyze_plan(
        operations,
        plan.target.connection(),
        plan.schema,
        is_production=plan.target.is_production,
        has_backup=plan.backup_completed and plan.backup_verified,
        progress=progress,
        # the executor sets lock_timeout and statement_timeout on its session itself
        assume_session_timeouts=True,
        rehearsal=_rehearsal_facts(plan, run.sql_hash),
        review_policy=policy_for_target(plan.target),
        data_backup=preview,
    )
    return {**report.to_dict(), "data_backup": preview}


def _rehearsal_facts(plan, sql_hash: str) -> dict | None:
    """The latest passed staging rehearsal of this exact SQL: its projected lock time is a risk factor."""
    rehearsal = (Rehearsal.objects.filter(plan=plan, sql_hash=sql_hash, status=Rehearsal.Status.PASSED)
                 .order_by("-finished_at", "-id").first())
    return rehearsal.risk_input() if rehearsal else None


# Execution, alerts, monitor. Ids only: never a secret or an object in a task argument.

def execute_plan(execution_id: int) -> str:
    """Safe to deliver twice: only the delivery that moves the Execution QUEUED -> RUNNING works."""
    return run_execution(execution_id)


def rollback_execution(execution_id: int) -> str:
    return run_rollback(execution_id)


def deliver_alert_task(alert_id: int) -> str:
    return deliver(alert_id)


def monitor_executions() -> dict:
    """Scheduled every minute: duration limit and executions whose worker died."""
    return monitor()


def rehearse_plan(rehearsal_id: int) -> str:
    """Rehearse a plan on its staging copy. Safe to deliver twice: only the delivery that moves
    the Rehearsal QUEUED -> RUNNING does any work."""
    return run_rehearsal(rehearsal_id)
