"""The JSON API: plans from SQL and files, analysis, report, the role matrix and the token scope."""

from __future__ import annotations

import pytest

from migrations_app.models import MigrationPlan

FLYWAY = [
    {"path": "db/migration/V1__add_phone.sql", "content": "-- phone numbers\nALTER TABLE customers ADD COLUMN phone text;\n"},
    {"path": "db/migration/V2__index_orders.sql",
     "content": "CREATE INDEX orders_customer ON orders (customer_id);\nALTER TABLE orders ADD COLUMN note text;\n"},
    {"path": "db/migration/U2__index_orders.sql",
     "content": "ALTER TABLE orders DROP COLUMN note;\nDROP INDEX orders_customer;\n"},
]


def test_a_dba_with_a_write_token_creates_a_plan_from_flyway_files_and_each_operation_keeps_its_file_and_line(
        dba, token_for, api, shop_target):
    response = api(token_for(dba, "write")).post("/plans", {"target": "shop", "title": "phones", "files": FLYWAY})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["format"] == "flyway"
    ops = body["operations"]
    assert [(o["source"]["path"], o["source"]["line"], o["source"]["version"]) for o in ops] == [
        ("db/migration/V1__add_phone.sql", 2, "1"),
        ("db/migration/V2__index_orders.sql", 1, "2"),
        ("db/migration/V2__index_orders.sql", 2, "2")]
    # the undo file reverses the version's statements: its last statement undoes the first
    assert ops[1]["rollback_sql"] == "DROP INDEX orders_customer"
    assert ops[2]["rollback_sql"] == "ALTER TABLE orders DROP COLUMN note"
    assert ops[1]["rollback_note"] == "from db/migration/U2__index_orders.sql:2"
    assert MigrationPlan.objects.get(pk=body["id"]).author == dba


def test_analysis_is_requested_polled_and_its_report_places_findings_on_file_lines(
        dba, token_for, api, shop_target, django_capture_on_commit_callbacks):
    client = api(token_for(dba, "write"))
    plan = client.post("/plans", {"target": "shop", "title": "t", "files": FLYWAY}).json()
    with django_capture_on_commit_callbacks(execute=True):
        run = client.post(f"/plans/{plan['id']}/analyses")
    assert run.status_code == 202, run.content
    polled = client.get(f"/analyses/{run.json()['id']}").json()
    assert polled["status"] == "SUCCEEDED", polled
    report = client.get(f"/plans/{plan['id']}/report").json()
    assert report["analysis"]["risk_level"] in {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
    index_findings = [f for f in report["findings"] if f["operation"] == 2]
    assert index_findings and all(f["path"] == "db/migration/V2__index_orders.sql" and f["line"] == 1
                                  for f in index_findings)
    assert any(f["rule"] == "require-concurrent-index-creation" for f in index_findings), index_findings


def test_a_read_token_reads_but_cannot_create_a_plan(dba, token_for, api, shop_target):
    client = api(token_for(dba, "read"))
    assert client.get("/plans").status_code == 200
    response = client.post("/plans", {"target": "shop", "title": "x", "sql": "ALTER TABLE customers ADD COLUMN a int"})
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    assert not MigrationPlan.objects.exists()


@pytest.mark.parametrize("persona", ["manager", "engineer"])
def test_a_token_never_authorises_what_its_user_could_not_do(persona, request, token_for, api, shop_target):
    user = request.getfixturevalue(persona)
    client = api(token_for(user, "write"))  # even a write token made behind the page's back
    response = client.post("/plans", {"target": "shop", "title": "x", "sql": "ALTER TABLE customers ADD COLUMN a int"})
    assert response.status_code == 403
    assert response.json()["detail"] == "only DBAs write plans"
    assert client.get("/plans").status_code == 200


def test_a_user_without_a_role_reads_nothing_with_a_token(outsider, token_for, api, shop_target):
    response = api(token_for(outsider, "read")).get("/targets")
    assert response.status_code == 403


def test_no_token_a_wrong_token_and_a_revoked_token_are_refused(dba, token_for, api, shop_target):
    from integrations.models import ApiToken

    token = token_for(dba, "read")
    assert api(None).get("/plans").status_code == 401
    assert api(token[:-2] + "xx").get("/plans").status_code == 401
    assert api(token).get("/plans").status_code == 200
    ApiToken.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert api(token).get("/plans").status_code == 401


def test_only_the_author_replaces_a_plans_sql_and_sign_offs_are_voided(dba, other_dba, token_for, api, shop_target):
    mine = api(token_for(dba, "write"))
    plan = mine.post("/plans", {"target": "shop", "title": "t", "sql": "ALTER TABLE customers ADD COLUMN a int"}).json()
    other = api(token_for(other_dba, "write")).put(f"/plans/{plan['id']}/sql", {"sql": "ALTER TABLE customers ADD COLUMN b int"})
    assert other.status_code == 403
    replaced = mine.put(f"/plans/{plan['id']}/sql", {"sql": "ALTER TABLE customers ADD COLUMN b int"})
    assert replaced.status_code == 200, replaced.content
    assert [o["sql"] for o in replaced.json()["operations"]] == ["ALTER TABLE customers ADD COLUMN b int"]


def test_the_statement_policy_refuses_through_the_api_with_kind_policy(dba, token_for, api, shop_target):
    response = api(token_for(dba, "write")).post("/plans", {
        "target": "shop", "title": "x", "files": [{"path": "001_evil.sql", "content": "SELECT 1;\nALTER SYSTEM SET work_mem = '1GB';\n"}]})
    assert response.status_code == 422
    assert response.json()["kind"] == "policy"
    assert "001_evil.sql:2" in response.json()["detail"]


def test_an_unknown_layout_is_refused_naming_what_was_expected(dba, token_for, api, shop_target):
    response = api(token_for(dba, "write")).post("/plans", {
        "target": "shop", "title": "x", "files": [{"path": "a.sql", "content": "SELECT 1;"},
                                                  {"path": "b.sql", "content": "SELECT 2;"}]})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert response.json()["kind"] == "input"
    assert "unknown layout" in detail and "Flyway: V<version>__<description>.sql" in detail


def test_the_openapi_document_lists_the_endpoints(client):
    document = client.get("/api/v1/openapi.json").json()
    assert document["info"]["version"] == "1"
    for path in ("/api/v1/plans", "/api/v1/plans/{plan_id}/report", "/api/v1/ci/submit", "/api/v1/targets/{target_id}/ledger"):
        assert path in document["paths"]
