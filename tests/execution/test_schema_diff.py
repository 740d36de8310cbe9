"""The schema diff of an execution: the objects a run added, removed or changed, with their
definitions, recorded from the digests read before and after the run, shown on its page."""

from migrations_app import execution as runner
from migrations_app.models import Execution

ADD_COLUMN_AND_INDEX = ("ALTER TABLE customers ADD COLUMN nickname text;\n"
                        "CREATE INDEX customers_nickname_idx ON customers (nickname);")


def _executed(plan, user, capture):
    with capture(execute=True):
        execution = runner.start_execution(plan, user)
    execution.refresh_from_db()
    return execution


def _by_name(diff):
    return {(c["kind"], c["name"]): c for c in diff["changes"]}


def test_an_execution_adding_a_column_and_an_index_shows_both_in_its_diff_with_their_definitions(
        shop, approved_plan, dba, engineer, client_for, django_capture_on_commit_callbacks):
    plan = approved_plan(shop, ADD_COLUMN_AND_INDEX)
    execution = _executed(plan, dba, django_capture_on_commit_callbacks)
    assert execution.status == Execution.Status.SUCCEEDED, execution.error
    diff = execution.schema_diff
    assert diff["reference"] == "before this run"
    changes = _by_name(diff)
    column = changes[("column", "public.customers.nickname")]
    assert column["change"] == "added" and column["after"].startswith("public.customers.nickname: nickname text")
    index = changes[("index", "public.customers.customers_nickname_idx")]
    assert index["change"] == "added"
    assert index["after"] == "CREATE INDEX customers_nickname_idx ON public.customers USING btree (nickname)"
    assert not [c for c in diff["changes"] if c["change"] == "removed"]

    page = client_for(engineer).get(execution.get_absolute_url()).content.decode()
    assert "Schema diff" in page and "public.customers.customers_nickname_idx" in page
    assert "CREATE INDEX customers_nickname_idx ON public.customers USING btree (nickname)" in page
    assert "public.customers.nickname: nickname text" in page


def test_a_failed_execution_whose_transaction_rolled_back_shows_no_object_changed(
        shop, approved_plan, dba, django_capture_on_commit_callbacks):
    plan = approved_plan(shop, ADD_COLUMN_AND_INDEX + "\nALTER TABLE customers ADD COLUMN nickname text;")
    execution = _executed(plan, dba, django_capture_on_commit_callbacks)
    assert execution.status == Execution.Status.FAILED and execution.rollback_executed
    assert execution.schema_diff == {"reference": "before this run", "changes": []}


def test_a_rollback_shows_an_empty_diff_against_the_schema_before_the_migration(
        shop, approved_plan, dba, engineer, client_for, django_capture_on_commit_callbacks):
    plan = approved_plan(shop, ADD_COLUMN_AND_INDEX)
    execution = _executed(plan, dba, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        rollback = runner.request_rollback(execution, dba)
    rollback.refresh_from_db()
    assert rollback.status == Execution.Status.SUCCEEDED, rollback.error
    assert rollback.schema_diff == {"reference": "before the migration", "changes": []}
    page = client_for(engineer).get(rollback.get_absolute_url()).content.decode()
    assert "No difference: the schema is as it was before the migration." in page
