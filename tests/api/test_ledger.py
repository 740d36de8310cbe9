"""The per-target ledger: an executed plan appends an entry (versions, files, who, outcome, digest),
and the next plan built from the same files leaves the applied versions out."""

from __future__ import annotations

from integrations.models import LedgerEntry
from migrations_app import execution
from migrations_app.models import MigrationPlan

FILES = [{"path": "db/V1__phone.sql", "content": "ALTER TABLE customers ADD COLUMN phone text;\n"}]


def test_an_executed_plan_is_in_the_ledger_and_its_versions_are_skipped_next_time(
        dba, token_for, api, shop_target, django_capture_on_commit_callbacks):
    client = api(token_for(dba, "write"))
    with django_capture_on_commit_callbacks(execute=True):
        submitted = client.post("/ci/submit", {"target": "shop", "ref": "main", "files": FILES}).json()
    plan = MigrationPlan.objects.get(pk=submitted["plan"]["id"])
    assert plan.status == "APPROVED", (plan.status, plan.risk_level)  # LOW: a DBA may execute after analysis
    with django_capture_on_commit_callbacks(execute=True):
        run = execution.start_execution(plan, dba)
    run.refresh_from_db()
    assert run.status == "SUCCEEDED", run.error
    entry = LedgerEntry.objects.get(target=shop_target)
    assert (entry.plan, entry.versions, entry.files, entry.applied_by, entry.outcome) == (
        plan, ["1"], ["db/V1__phone.sql"], dba, "SUCCEEDED")
    assert entry.schema_digest_after == run.digest_after and entry.schema_digest_after
    ledger = client.get(f"/targets/{shop_target.pk}/ledger").json()
    assert ledger["applied_versions"] == ["1"] and len(ledger["entries"]) == 1
    again = client.post("/ci/submit", {"target": "shop", "ref": "next", "files": FILES + [
        {"path": "db/V2__note.sql", "content": "ALTER TABLE orders ADD COLUMN note text;\n"}]}).json()
    assert again["skipped_versions"] == ["1"] and again["versions"] == ["2"]
    page = api(None).client
    page.force_login(dba)
    assert b"db/V1__phone.sql" in page.get(f"/targets/{shop_target.pk}/ledger/").content
