"""factory-boy factories for the app's models.

Users are never made here: pass the persona fixtures (``dba``, ``other_dba``, ``manager``, ...).

Where the workflow decides what a row holds, the factory goes through it: ``MigrationPlanFactory``
calls ``workflow.create_plan`` (statement policy, ``sql_hash``, audit), ``AnalysedFactory`` finishes
an analysis through ``workflow.finish_analysis`` (plan to IN_REVIEW, or on to APPROVED when the gate
already holds, as after a real analysis) and ``approve`` signs through ``workflow.sign_off``. The
other factories make plain rows, for pages and for rows a test means to look hand-made.
"""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from baselines_app.models import BaselineRun
from dataflow_site.roles import MANAGER, user_roles
from migrations_app import gate, workflow
from migrations_app.models import (AnalysisRun, Execution, MigrationPlan, PlanOperation, PlanStatus, Rehearsal,
                                   RiskLevel, SignOff)
from staging_app.models import StagingEnvironment
from targets.models import TargetDatabase

# A score inside each runbook band (LOW 0-30, MEDIUM 31-60, HIGH 61-80, CRITICAL 81-100).
SCORES = {RiskLevel.LOW: 12, RiskLevel.MEDIUM: 45, RiskLevel.HIGH: 70, RiskLevel.CRITICAL: 90}

ADD_NICKNAME = {"type": "ADD_COLUMN", "schema_name": "public", "table": "customers", "column": "nickname",
                "sql": "ALTER TABLE customers ADD COLUMN nickname text",
                "rollback_sql": "ALTER TABLE customers DROP COLUMN nickname", "rollback_note": "", "line": 1}


def risk_report(level: str, score: int | None = None) -> dict:
    """An analysis report that says ``level`` and nothing else (the engines have their own tests)."""
    score = SCORES[level] if score is None else score
    return {"risk": {"risk_level": level, "overall_score": score, "category_scores": {}, "factors": []},
            "statements": [], "dependencies": []}


class TargetDatabaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TargetDatabase
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"target-{n}")
    host = "127.0.0.1"
    port = 5432
    dbname = "postgres"
    user = "postgres"
    environment = TargetDatabase.Environment.DEVELOPMENT

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        if extracted:
            obj.password = extracted
            if create:
                obj.save(update_fields=["password_encrypted"])

    @classmethod
    def for_connection(cls, conn, **fields) -> TargetDatabase:
        """A target row pointing at a live database (a ``TargetConnection``, e.g. from ``target_db``)."""
        return cls(host=conn.host, port=conn.port, dbname=conn.dbname, user=conn.user,
                   password=conn.password or "", **fields)


class MigrationPlanFactory(factory.django.DjangoModelFactory):
    """``MigrationPlanFactory(author=dba, target=..., operations=[...])`` or ``sql="..."``: a DRAFT
    plan made by ``workflow.create_plan``. ``sql`` is split into operations the way the plan form
    does (``script_to_operations``, rollback SQL suggested from the target's catalog)."""

    class Meta:
        model = MigrationPlan

    title = factory.Sequence(lambda n: f"Plan {n}")
    target = factory.SubFactory(TargetDatabaseFactory)
    schema = "public"
    description = ""
    operations = factory.LazyFunction(lambda: [dict(ADD_NICKNAME)])
    sql = None

    @classmethod
    def _create(cls, model_class, *, author, target, sql, operations, schema, **fields):
        if sql is not None:
            from migrations_app.plan_sql import script_to_operations

            operations = script_to_operations(sql, schema, target)
        return workflow.create_plan(author, target=target, schema=schema, operations=operations, **fields)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise TypeError("plans are only made through workflow.create_plan: use MigrationPlanFactory(...)")


class PlanOperationFactory(factory.django.DjangoModelFactory):
    """A raw operation row: it does not re-hash the plan, so the plan's ``sql_hash`` no longer
    covers it (what a hand-edited row looks like). Edit real plans through ``workflow``."""

    class Meta:
        model = PlanOperation

    position = factory.LazyAttribute(lambda o: o.plan.operations.count() + 1)
    type = ADD_NICKNAME["type"]
    schema_name = "public"
    table = ADD_NICKNAME["table"]
    column = ADD_NICKNAME["column"]
    sql = ADD_NICKNAME["sql"]
    rollback_sql = ADD_NICKNAME["rollback_sql"]


class AnalysisRunFactory(factory.django.DjangoModelFactory):
    """A finished analysis row of the plan's current SQL on its target's current identity, at
    ``level`` (the ``report`` says the same). It moves no plan: use ``AnalysedFactory`` for that.
    Traits ``queued`` and ``running``: a run that has no outcome yet."""

    class Meta:
        model = AnalysisRun

    class Params:
        level = RiskLevel.LOW
        score = None
        queued = factory.Trait(status=AnalysisRun.Status.QUEUED, risk_level="", risk_score=None, report=None,
                               started_at=None, finished_at=None)
        running = factory.Trait(status=AnalysisRun.Status.RUNNING, risk_level="", risk_score=None, report=None,
                                finished_at=None)

    sql_hash = factory.LazyAttribute(lambda o: o.plan.sql_hash)
    target_identity = factory.LazyAttribute(lambda o: o.plan.target.connection_identity(o.plan.schema))
    status = AnalysisRun.Status.SUCCEEDED
    risk_level = factory.LazyAttribute(lambda o: o.level)
    risk_score = factory.LazyAttribute(lambda o: SCORES[o.level] if o.score is None else o.score)
    report = factory.LazyAttribute(lambda o: risk_report(o.level, o.score))
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)


class AnalysedFactory(AnalysisRunFactory):
    """An analysis finished through the workflow: the plan goes DRAFT/IN_REVIEW -> ANALYZING ->
    IN_REVIEW at ``level``, and on to APPROVED when the gate already holds (LOW, or signatures
    that still bind). Returns the run; the plan passed in is refreshed."""

    @classmethod
    def _create(cls, model_class, *, plan, report, **fields):
        workflow.transition(plan, workflow.ANALYSABLE, PlanStatus.ANALYZING, None, "plan.analysis_requested")
        for outcome in ("risk_level", "risk_score", "finished_at"):
            fields.pop(outcome)
        run = model_class.objects.create(plan=plan, **{**fields, "status": AnalysisRun.Status.RUNNING})
        workflow.finish_analysis(run, report)
        run.refresh_from_db()
        plan.refresh_from_db()
        return run


def analyse(plan: MigrationPlan, level: str = RiskLevel.LOW, score: int | None = None) -> MigrationPlan:
    """Record a finished analysis of the plan's current SQL at ``level``; returns the plan."""
    AnalysedFactory(plan=plan, level=level, score=score)
    return plan


class SignOffFactory(factory.django.DjangoModelFactory):
    """A sign-off row bound to the plan's current review version (as ``workflow.sign_off`` binds it),
    without the workflow's checks or the plan's move to APPROVED: for rows a test edits or a page
    lists. ``approve`` below is the real route."""

    class Meta:
        model = SignOff

    decision = SignOff.Decision.REVIEW
    role = factory.LazyAttribute(lambda o: "Manager" if o.decision == SignOff.Decision.APPROVE else "DBA")
    comment = ""
    sql_hash = factory.LazyAttribute(lambda o: o.plan.sql_hash)
    review_hash = factory.LazyAttribute(lambda o: gate.current_review_version(o.plan))
    target_identity = factory.LazyAttribute(lambda o: o.plan.target.connection_identity(o.plan.schema))
    analysis = factory.LazyAttribute(lambda o: gate.current_analysis(o.plan))
    risk_level = factory.LazyAttribute(lambda o: o.plan.risk_level)


def approve(plan: MigrationPlan, *signers) -> MigrationPlan:
    """Each signer signs the plan's current version through ``workflow.sign_off`` (a manager
    approves, a DBA reviews); the plan moves to APPROVED if that satisfies the gate."""
    for signer in signers:
        decision = SignOff.Decision.APPROVE if MANAGER in user_roles(signer) else SignOff.Decision.REVIEW
        workflow.sign_off(plan, signer, decision, "looks fine")
    workflow.refresh_approval(plan, None)
    plan.refresh_from_db()
    return plan


def approved_plan(author, target, *, level: str = RiskLevel.LOW, signers=(), **plan_fields) -> MigrationPlan:
    """A plan written, analysed at ``level`` and signed by ``signers`` through the workflow, which must
    end APPROVED: a MEDIUM plan needs a DBA other than the author among the signers, HIGH and
    CRITICAL a manager and a passed rehearsal (``RehearsalFactory``) as well."""
    plan = MigrationPlanFactory(author=author, target=target, **plan_fields)
    analyse(plan, level)
    approve(plan, *signers)
    if plan.status != PlanStatus.APPROVED:
        raise AssertionError(f"the gate did not approve the plan: {gate.evaluate_gate(plan).explain()}")
    return plan


class ExecutionFactory(factory.django.DjangoModelFactory):
    """A queued execution row of the plan's current SQL (the executor runs it: ``execute_plan(pk)``)."""

    class Meta:
        model = Execution

    sql_hash = factory.LazyAttribute(lambda o: o.plan.sql_hash)
    status = Execution.Status.QUEUED


class StagingEnvironmentFactory(factory.django.DjangoModelFactory):
    """A registry row of a READY staging copy of ``target``. No database is made: for pages and the
    gate. Real copies come from the staging manager (see tests/rehearsal/conftest.py)."""

    class Meta:
        model = StagingEnvironment

    staging_id = factory.Sequence(lambda n: f"{n:012x}")
    target = factory.SubFactory(TargetDatabaseFactory)
    database_name = factory.LazyAttribute(lambda o: f"dataflow_stg_{o.staging_id}")
    host = factory.LazyAttribute(lambda o: o.target.host if o.target else "127.0.0.1")
    port = factory.LazyAttribute(lambda o: o.target.port if o.target else 5432)
    db_user = factory.LazyAttribute(lambda o: o.target.user if o.target else "postgres")
    production_database = factory.LazyAttribute(lambda o: o.target.dbname if o.target else "postgres")
    status = StagingEnvironment.Status.READY
    data_sample_size = 0.1
    sample_seed = 1
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=12))


class RehearsalFactory(factory.django.DjangoModelFactory):
    """A rehearsal row of the plan's current SQL on a copy of the plan's target. Traits: ``passed``
    (rollback verified for the schema: the HIGH gate's staging validation) and ``full`` (also
    verified for data, baselines PASS: the CRITICAL gate's full staging test)."""

    class Meta:
        model = Rehearsal

    sql_hash = factory.LazyAttribute(lambda o: o.plan.sql_hash)
    environment = factory.SubFactory(StagingEnvironmentFactory, target=factory.SelfAttribute("..plan.target"))
    status = Rehearsal.Status.QUEUED

    class Params:
        passed = factory.Trait(
            status=Rehearsal.Status.PASSED, sample_fraction=0.5, rollback_schema_verified=True,
            rollback_data_status="not_checked", rollback_data_summary="data not checked",
            started_at=factory.LazyFunction(timezone.now), finished_at=factory.LazyFunction(timezone.now))
        full = factory.Trait(
            passed=True, rollback_verified=True, rollback_data_status="no_data_changed",
            rollback_data_summary="no rows changed", validation_status="PASS")


class BaselineRunFactory(factory.django.DjangoModelFactory):
    """A finished measurement run row of ``target`` (no baselines measured: add them or run one)."""

    class Meta:
        model = BaselineRun

    target = factory.SubFactory(TargetDatabaseFactory)
    label = factory.Sequence(lambda n: f"run {n}")
    database_name = factory.LazyAttribute(lambda o: o.target.dbname)
    status = BaselineRun.Status.DONE
    query_types = factory.LazyFunction(lambda: ["SELECT"])
