import pytest

from migrations_app import workflow
from migrations_app.models import PlanVersion
from migrations_app.plan_versions import choose_diff, diff_versions
from targets.models import AuditEvent

INDEX = {"type": "CREATE_INDEX", "schema_name": "public", "table": "customers", "column": "",
         "sql": "CREATE INDEX customers_nickname_idx ON customers (nickname)",
         "rollback_sql": "DROP INDEX customers_nickname_idx", "rollback_note": "", "line": 2}


def _versions(plan):
    return list(plan.versions.order_by("number").values_list("number", "verb", "sql_hash"))


def test_creating_a_plan_keeps_version_one_with_its_sql_and_rollback(plan, dba):
    [version] = plan.versions.all()
    assert (version.number, version.verb, version.author, version.sql_hash) == (1, "plan.created", dba, plan.sql_hash)
    assert version.forward_sql == "ALTER TABLE customers ADD COLUMN nickname text;\n"
    assert version.rollback_sql == "ALTER TABLE customers DROP COLUMN nickname;\n"


def test_every_route_that_changes_the_operations_keeps_a_new_version_with_the_new_hash(plan, dba):
    workflow.add_operation(plan, dba, **INDEX)
    workflow.add_operations(plan, dba, [dict(INDEX, sql="ANALYZE customers", rollback_sql="", type="OTHER")],
                            at_start=True)
    first = plan.operations.first()
    workflow.move_operation(plan, dba, first.pk, +1)
    workflow.update_operation(plan, dba, first.pk, sql="SELECT 1")
    workflow.remove_operation(plan, dba, first.pk)
    workflow.replace_operations(plan, dba, [dict(INDEX)])
    verbs = [verb for _, verb, _ in _versions(plan)]
    assert verbs == ["plan.created", "plan.operation_added", "plan.operation_added", "plan.operation_moved",
                     "plan.operation_changed", "plan.operation_removed", "plan.sql_replaced"]
    assert [n for n, _, _ in _versions(plan)] == list(range(1, 8))
    plan.refresh_from_db()
    latest = plan.versions.first()
    assert latest.sql_hash == plan.sql_hash
    assert [op["sql"] for op in latest.operations] == [INDEX["sql"]]
    # the audit event of each change names the version it made
    assert AuditEvent.objects.filter(object_type="migrationplan", object_id=str(plan.pk),
                                     verb="plan.sql_replaced").get().data["version"] == 7


def test_a_change_the_statement_policy_refuses_keeps_no_version(plan, dba):
    with pytest.raises(workflow.WorkflowError):
        workflow.add_operation(plan, dba, **dict(INDEX, sql="ALTER SYSTEM SET work_mem = '1GB'"))
    assert [n for n, _, _ in _versions(plan)] == [1]


def test_a_version_cannot_be_edited_or_deleted(plan):
    version = plan.versions.get()
    version.verb = "forged"
    with pytest.raises(ValueError, match="append-only"):
        version.save()
    with pytest.raises(ValueError, match="append-only"):
        version.delete()
    assert PlanVersion.objects.get(pk=version.pk).verb == "plan.created"


def test_the_diff_shows_added_and_removed_forward_and_rollback_lines(plan, dba):
    workflow.add_operation(plan, dba, **INDEX)
    op = plan.operations.first()
    workflow.update_operation(plan, dba, op.pk, sql="ALTER TABLE customers ADD COLUMN nickname varchar(40)")
    v1, v3 = plan.versions.get(number=1), plan.versions.get(number=3)
    diff = diff_versions(v1, v3)
    forward = [(line.kind, line.text) for line in diff.forward]
    assert forward[:2] == [("file", "--- v1 forward"), ("file", "+++ v3 forward")]
    assert ("del", "-ALTER TABLE customers ADD COLUMN nickname text;") in forward
    assert ("add", "+ALTER TABLE customers ADD COLUMN nickname varchar(40);") in forward
    assert ("add", "+CREATE INDEX customers_nickname_idx ON customers (nickname);") in forward
    assert forward[2][0] == "hunk"
    # rollback runs in reverse: the index is dropped before the column
    rollback = [line.text for line in diff.rollback]
    assert rollback[-2:] == ["+DROP INDEX customers_nickname_idx;", " ALTER TABLE customers DROP COLUMN nickname;"]
    assert not diff.identical


def test_the_default_diff_is_the_previous_version_against_the_current_one_and_versions_can_be_chosen(plan, dba):
    assert choose_diff(plan, None, None) is None  # one version: nothing to compare
    workflow.add_operation(plan, dba, **INDEX)
    workflow.replace_operations(plan, dba, [dict(INDEX)])
    default = choose_diff(plan, None, None)
    assert (default.old.number, default.new.number) == (2, 3)
    chosen = choose_diff(plan, "1", "2")
    assert (chosen.old.number, chosen.new.number) == (1, 2)
    assert choose_diff(plan, "nonsense", "99").new.number == 3


def test_the_history_tab_lists_versions_and_renders_the_diff_as_classed_lines(plan, dba, engineer, client_for):
    workflow.add_operation(plan, dba, **INDEX)
    response = client_for(engineer).get(f"/plans/{plan.pk}/?tab=history&from=1")
    html = response.content.decode()
    assert response.status_code == 200
    assert "v1 → v2" in html
    assert ('<span class="diff-line diff-add">+CREATE INDEX customers_nickname_idx ON customers (nickname);</span>'
            in html)
    assert '<span class="diff-line diff-add">+DROP INDEX customers_nickname_idx;</span>' in html
    assert "style=" not in html.split('id="versions"')[1].split('id="comments"')[0]
