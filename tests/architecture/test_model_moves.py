"""Targets, the audit trail and rehearsals moved between apps in Django's state only: a database
migrated before the move keeps its rows, and the foreign keys still join them after it."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("migrations_app", "0010_plan_statement_timeout"), ("staging_app", "0005_rehearsal_schema_and_data_verification"),
          ("baselines_app", "0001_initial"), ("targets", None)]


def _migrate(nodes):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(nodes)
    return executor.loader.project_state([node for node in nodes if node[1]]).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_rows_written_before_the_move_are_intact_and_joined_after_it(dba):
    old = _migrate(BEFORE)
    Target = old.get_model("migrations_app", "TargetDatabase")
    Plan = old.get_model("migrations_app", "MigrationPlan")
    Copy = old.get_model("staging_app", "StagingEnvironment")
    OldRehearsal = old.get_model("staging_app", "Rehearsal")
    target = Target.objects.create(name="moved", host="db.internal", port=5432, dbname="shop", user="app")
    plan = Plan.objects.create(title="drop legacy", target=target, author_id=dba.pk, sql_hash="a" * 64)
    copy = Copy.objects.create(staging_id="stg_moved", target=target, host="db.internal", port=5432,
                               database_name="dataflow_stg_moved", data_sample_size=0.1,
                               sample_seed=1, expires_at=timezone.now())
    rehearsal = OldRehearsal.objects.create(plan=plan, environment=copy, sql_hash=plan.sql_hash, status="PASSED")

    new = _migrate(_latest())

    from migrations_app.models import MigrationPlan, Rehearsal
    from targets.models import TargetDatabase

    assert TargetDatabase.objects.get(pk=target.pk).name == "moved"
    moved = Rehearsal.objects.select_related("plan__target", "environment__target").get(pk=rehearsal.pk)
    assert (moved.status, moved.plan.title, moved.plan.target.name) == ("PASSED", "drop legacy", "moved")
    assert moved.environment.target_id == target.pk
    assert list(MigrationPlan.objects.filter(target__name="moved").values_list("pk", flat=True)) == [plan.pk]
    assert new.get_model("targets", "TargetDatabase")._meta.db_table == "migrations_app_targetdatabase"
    assert new.get_model("migrations_app", "Rehearsal")._meta.db_table == "staging_app_rehearsal"
    # a new row through the moved model joins the old ones
    second = Rehearsal.objects.create(plan_id=plan.pk, environment_id=copy.pk, sql_hash=plan.sql_hash)
    assert set(TargetDatabase.objects.get(pk=target.pk).plans.get().rehearsals.values_list("pk", flat=True)) == {
        rehearsal.pk, second.pk}
    # the content types moved with the models (group permissions follow them), none left behind;
    # checked here because a non-transactional test after a flushed transactional one sees no rows
    from django.contrib.contenttypes.models import ContentType

    labels = set(ContentType.objects.filter(model__in=["targetdatabase", "auditevent", "rehearsal"])
                 .values_list("app_label", "model"))
    assert ("targets", "targetdatabase") in labels and ("migrations_app", "rehearsal") in labels
    assert not labels & {("migrations_app", "targetdatabase"), ("staging_app", "rehearsal")}
