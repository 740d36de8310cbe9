import pytest
from django.utils import timezone

from migrations_app import workflow
from migrations_app.models import AnalysisRun, PlanStatus
from tests.factories import TargetDatabaseFactory

SIMPLE_OPS = [
    {"type": "ADD_COLUMN", "schema_name": "public", "table": "customers", "column": "nickname",
     "sql": "ALTER TABLE customers ADD COLUMN nickname text", "rollback_sql": "ALTER TABLE customers DROP COLUMN nickname",
     "rollback_note": "", "line": 1},
]


@pytest.fixture
def target(db):
    return TargetDatabaseFactory(name="shop-prod", environment="production")


@pytest.fixture
def plan(dba, target):
    return workflow.create_plan(dba, target=target, title="Add nickname", operations=SIMPLE_OPS)


@pytest.fixture
def analysed():
    """``analysed(plan, "HIGH")``: record a finished analysis of the plan's current SQL at that level
    (the engines have their own tests; these tests are about the workflow around them)."""

    def make(plan, level="LOW", score=None):
        scores = {"LOW": 12, "MEDIUM": 45, "HIGH": 70, "CRITICAL": 90}
        score = score if score is not None else scores[level]
        workflow.transition(plan, workflow.ANALYSABLE, PlanStatus.ANALYZING, None, "plan.analysis_requested")
        run = AnalysisRun.objects.create(plan=plan, sql_hash=plan.sql_hash, status=AnalysisRun.Status.RUNNING,
                                         started_at=timezone.now())
        workflow.finish_analysis(run, {"risk": {"risk_level": level, "overall_score": score, "category_scores": {},
                                                "factors": []}, "statements": [], "dependencies": []})
        plan.refresh_from_db()
        return plan

    return make
