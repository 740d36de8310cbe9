import pytest
from django.db import DatabaseError, connection, transaction

from targets.models import AuditEvent


@pytest.mark.django_db
def test_audit_table_refuses_update():
    event = AuditEvent.record(None, "test.recorded", object_type="thing", object_id="1")
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(verb="tampered")
    assert AuditEvent.objects.get(pk=event.pk).verb == "test.recorded"


@pytest.mark.django_db
def test_audit_table_refuses_delete_even_in_raw_sql():
    event = AuditEvent.record(None, "test.recorded", object_type="thing", object_id="1")
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("DELETE FROM migrations_app_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_audit_page_filters_by_verb(client_for, engineer):
    AuditEvent.record(None, "target.created", object_type="targetdatabase", object_id="7", data={"name": "alpha"})
    AuditEvent.record(None, "plan.approved", object_type="migrationplan", object_id="9")
    response = client_for(engineer).get("/audit/", {"verb": "plan."})
    body = response.content.decode()
    assert response.status_code == 200
    assert "plan.approved" in body and "target.created" not in body


@pytest.mark.django_db
def test_audit_filter_via_htmx_returns_only_the_results_partial(client_for, engineer):
    AuditEvent.record(None, "target.created", object_type="targetdatabase", object_id="7")
    response = client_for(engineer).get("/audit/", {"verb": "target"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="audit-results"' in body and "<html" not in body
