"""Two ways forward the pages now show: the Mitigation tab's backup step says there is nothing to copy
when Execute… backs the rows up itself (copied in, its CREATE SCHEMA / CREATE TABLE AS have no
rollback and the rehearsal fails), and a staging copy's page links to the open plans of its target
(the plan page's "Create one" leads to the copy, and the copy leads back)."""

from pathlib import Path

import pytest

from migrations_app import workflow
from migrations_app.models import MigrationPlan, PlanStatus
from migrations_app.tasks import run_plan_analysis
from tests.factories import MigrationPlanFactory, StagingEnvironmentFactory, TargetDatabaseFactory

DEMO_SCHEMA = (Path(__file__).resolve().parents[2] / "migrations_app/demo/demo_shop_schema.sql").read_text()


@pytest.fixture
def demo(target_db):
    return target_db(DEMO_SCHEMA)


def test_the_backup_step_has_nothing_to_copy_when_execute_backs_the_rows_up(demo, dba, client_for):
    target = TargetDatabaseFactory.for_connection(demo, name="demo-shop")
    plan = MigrationPlanFactory(author=dba, target=target, title="Drop legacy_status",
                                sql="ALTER TABLE customers DROP COLUMN legacy_status")
    run_plan_analysis(workflow.request_analysis(plan, dba).pk)

    page = client_for(dba).get(f"/plans/{plan.pk}/?tab=mitigation").content.decode()

    assert "Back up the data before the destructive statements" in page
    assert "Nothing to copy: <em>Execute…</em> backs these rows up itself" in page
    assert "values of public.customers.legacy_status" in page
    backup_step = page.split("Back up the data before the destructive statements")[1].split("Step 2")[0]
    assert "/mitigation/" not in backup_step  # no copy form for it
    # another step still offers its SQL
    assert "Copy to the start of the plan" in page


def test_the_backup_step_is_offered_when_execute_cannot_back_the_rows_up(demo, dba, client_for):
    with demo.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE notes (body text)")  # no primary key: rows cannot be matched back
    target = TargetDatabaseFactory.for_connection(demo, name="demo-shop")
    plan = MigrationPlanFactory(author=dba, target=target, title="Drop body", sql="ALTER TABLE notes DROP COLUMN body")
    run_plan_analysis(workflow.request_analysis(plan, dba).pk)

    page = client_for(dba).get(f"/plans/{plan.pk}/?tab=mitigation").content.decode()

    assert "Back up the data before the destructive statements" in page
    assert "Nothing to copy" not in page
    assert "Copy to the start of the plan" in page


def test_a_staging_copy_links_to_the_open_plans_of_its_target(dba, client_for):
    target = TargetDatabaseFactory(name="shop")
    open_plan = MigrationPlanFactory(author=dba, target=target, title="Drop legacy")
    MigrationPlan.objects.filter(pk=open_plan.pk).update(status=PlanStatus.IN_REVIEW)
    MigrationPlanFactory(author=dba, target=target, title="Old draft")  # a draft awaits no rehearsal
    env = StagingEnvironmentFactory(target=target, created_by=dba)

    page = client_for(dba).get(f"/staging/{env.staging_id}/").content.decode()

    assert "Rehearse an open plan of shop from its page" in page
    assert f'href="/plans/{open_plan.pk}/#plan-rehearsals">Drop legacy</a>' in page
    assert "Old draft" not in page
