import socket

import pytest
from django.urls import reverse

from targets.engines.health import DatabaseHealthCheck
from targets.models import AuditEvent, TargetDatabase
from tests import pg
from tests.factories import TargetDatabaseFactory

SECRET = "Pa55-never-shown-9x"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def live_target(**kwargs) -> TargetDatabase:
    """A target pointing at the test server's postgres database."""
    server = pg.server_connection("postgres")
    target = TargetDatabaseFactory(host=server.host, port=server.port, user=server.user, dbname="postgres", **kwargs)
    if server.password:
        target.password = server.password
        target.save()
    return target


def form_data(**overrides):
    server = pg.server_connection("postgres")
    data = {"name": "orders-prod", "environment": "production", "host": server.host, "port": server.port,
            "dbname": "postgres", "user": server.user, "password": SECRET, "sslmode": "prefer",
            "staging_host": "", "staging_port": "", "notes": ""}
    data.update(overrides)
    return data


# Permissions --------------------------------------------------------------------------------

READ_PAGES = ["dashboard", "target_list", "audit_list"]


@pytest.mark.django_db
@pytest.mark.parametrize("page", READ_PAGES)
def test_every_role_can_read_and_outsiders_cannot(page, client_for, dba, manager, engineer, outsider):
    url = reverse(page)
    for user in (dba, manager, engineer):
        assert client_for(user).get(url).status_code == 200, user.username
    assert client_for(outsider).get(url).status_code == 403
    anonymous = client_for(None).get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_health_page_is_readable_by_every_role(client_for, dba, manager, engineer, outsider):
    target = live_target()
    url = reverse("target_health", args=[target.pk])
    for user in (dba, manager, engineer):
        assert client_for(user).get(url).status_code == 200
    assert client_for(outsider).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("name,method", [("target_add", "get"), ("target_add", "post"), ("target_edit", "get"),
                                         ("target_edit", "post"), ("target_delete", "get"), ("target_delete", "post"),
                                         ("target_test_connection_existing", "post")])
def test_only_dbas_manage_targets(name, method, client_for, dba, manager, engineer, outsider):
    target = TargetDatabaseFactory()
    url = reverse(name) if name == "target_add" else reverse(name, args=[target.pk])
    for user in (manager, engineer, outsider):
        response = getattr(client_for(user), method)(url, form_data(name=f"x-{user.pk}") if method == "post" else None)
        assert response.status_code == 403, (user.username, name, method)
    assert getattr(client_for(None), method)(url).status_code == 302
    if method == "get":
        assert client_for(dba).get(url).status_code == 200


@pytest.mark.django_db
def test_refreshing_health_is_for_dbas_and_managers(client_for, dba, manager, engineer, outsider):
    target = live_target()
    url = reverse("target_refresh_health", args=[target.pk])
    assert client_for(engineer).post(url).status_code == 403
    assert client_for(outsider).post(url).status_code == 403
    assert client_for(None).post(url).status_code == 302
    for user in (dba, manager):
        response = client_for(user).post(url, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
    target.refresh_from_db()
    assert target.last_health["ok"] is True and target.health_state == "ok"


# Adding, editing, deleting ------------------------------------------------------------------

@pytest.mark.django_db
def test_dba_adds_a_target_and_the_audit_trail_records_it_without_the_password(client_for, dba):
    response = client_for(dba).post(reverse("target_add"), form_data())
    assert response.status_code == 302
    target = TargetDatabase.objects.get(name="orders-prod")
    assert target.password == SECRET
    event = AuditEvent.objects.get(verb="target.created", object_id=str(target.pk))
    assert event.actor_name == dba.username
    assert SECRET not in str(event.data)


@pytest.mark.django_db
def test_blank_password_on_edit_keeps_the_stored_one(client_for, dba):
    target = TargetDatabaseFactory(password=SECRET)
    data = form_data(name=target.name, password="", notes="moved to new host")
    response = client_for(dba).post(reverse("target_edit", args=[target.pk]), data)
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.password == SECRET and target.notes == "moved to new host"
    event = AuditEvent.objects.get(verb="target.changed", object_id=str(target.pk))
    assert "password" not in event.data["changes"] and SECRET not in str(event.data)


@pytest.mark.django_db
def test_deleting_a_target_is_audited(client_for, dba):
    target = TargetDatabaseFactory()
    assert client_for(dba).post(reverse("target_delete", args=[target.pk])).status_code == 302
    assert not TargetDatabase.objects.filter(pk=target.pk).exists()
    assert AuditEvent.objects.filter(verb="target.deleted", object_id=str(target.pk)).exists()


@pytest.mark.django_db
def test_the_password_never_appears_in_any_page(client_for, dba, manager, engineer):
    target = live_target()
    target.password = SECRET
    target.save()
    AuditEvent.record(dba, "target.changed", target, data={"changes": {"password": "changed"}})
    urls = [reverse("dashboard"), reverse("target_list"), reverse("audit_list"),
            reverse("target_edit", args=[target.pk]), reverse("target_health", args=[target.pk]),
            reverse("target_delete", args=[target.pk])]
    for user in (dba, manager, engineer):
        for url in urls:
            response = client_for(user).get(url)
            assert SECRET not in response.content.decode(), (user.username, url)
    # a failed test connection with the stored (wrong) password does not echo it either
    response = client_for(dba).post(reverse("target_test_connection_existing", args=[target.pk]),
                                    form_data(name=target.name, password="", user="no_such_role_x"))
    assert SECRET not in response.content.decode()


# Test connection and health check against real servers --------------------------------------

@pytest.mark.django_db
def test_test_connection_shows_the_server_version(client_for, dba):
    response = client_for(dba).post(reverse("target_test_connection"), form_data(), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Connected: PostgreSQL" in body


@pytest.mark.django_db
def test_test_connection_shows_the_exact_error_for_a_dead_port(client_for, dba):
    port = free_port()
    response = client_for(dba).post(reverse("target_test_connection"), form_data(host="127.0.0.1", port=port))
    body = response.content.decode()
    assert "Connection failed" in body and str(port) in body


def test_health_check_reports_facts_of_a_real_server():
    report = DatabaseHealthCheck(pg.server_connection("postgres")).run()
    assert report.ok, report.error
    assert report.server_version.startswith("PostgreSQL")
    assert report.database_size_bytes > 0
    assert report.is_replica is False
    assert isinstance(report.pg_stat_statements_installed, bool)
    assert report.migration_locks is None  # no lock table in the postgres database


def test_health_check_sees_a_long_transaction(target_db):
    target = target_db("CREATE TABLE t (id int)")
    blocker = target.connect()
    try:
        blocker.execute("SELECT * FROM t")  # opens a transaction and keeps it open
        report = DatabaseHealthCheck(target, long_transaction_seconds=0).run()
    finally:
        blocker.close()
    assert report.ok
    assert any("SELECT * FROM t" in tx["query"] for tx in report.long_transactions)
    assert any("DDL would queue" in w for w in report.warnings)


def test_health_check_reads_the_migration_lock_table(target_db):
    target = target_db("""
        CREATE TABLE public.dataflow_migration_locks (schema_name text PRIMARY KEY, holder_process_id text,
            acquired_at timestamptz, expires_at timestamptz, lock_data jsonb);
        INSERT INTO public.dataflow_migration_locks VALUES ('billing', 'worker-1:4242', now(), now() + interval '5 minutes', '{}');
    """)
    report = DatabaseHealthCheck(target).run()
    assert report.migration_locks[0]["schema_name"] == "billing"
    assert report.migration_locks[0]["current"] is True
    assert any("migration lock held on billing" in w for w in report.warnings)


def test_health_check_of_a_port_where_nothing_listens_reports_the_error():
    dead = pg.server_connection("postgres").with_options(host="127.0.0.1", port=free_port(), connect_timeout=2)
    report = DatabaseHealthCheck(dead).run()
    assert report.ok is False
    assert "cannot connect" in report.error and str(dead.port) in report.error


@pytest.mark.django_db
def test_health_page_of_a_down_target_shows_a_clear_error_not_a_500(client_for, engineer):
    target = TargetDatabaseFactory(host="127.0.0.1", port=free_port())
    response = client_for(engineer).get(reverse("target_health", args=[target.pk]))
    assert response.status_code == 200
    assert "The target cannot be checked" in response.content.decode()
    target.refresh_from_db()
    assert target.health_state == "down"
