"""The stored target password is only ever sent to the server it was stored for. Fake servers
on 127.0.0.1 ask for a cleartext password and record what arrives; the real views are used."""

import pytest
from django.urls import reverse

from targets.models import AuditEvent, TargetDatabase
from tests.factories import TargetDatabaseFactory
from tests.security.fake_pg import FakePostgres

STORED = "stored-Secret-41x"


@pytest.fixture
def fakes():
    with FakePostgres() as home, FakePostgres() as elsewhere:
        yield home, elsewhere


@pytest.fixture
def target(db, fakes):
    home, _ = fakes
    return TargetDatabaseFactory(name="orders-prod", host="127.0.0.1", port=home.port, dbname="shop", user="app",
                                 sslmode="prefer", password=STORED)


def submitted(target, **changes):
    data = {"name": target.name, "environment": target.environment, "host": target.host, "port": target.port,
            "dbname": target.dbname, "user": target.user, "password": "", "sslmode": target.sslmode,
            "staging_host": "", "staging_port": "", "notes": ""}
    data.update(changes)
    return data


def try_connection(client, target, **changes):
    return client.post(reverse("target_test_connection_existing", args=[target.pk]), submitted(target, **changes),
                       HTTP_HX_REQUEST="true").content.decode()


def last_test_event():
    return AuditEvent.objects.filter(verb="target.connection_tested").order_by("-id").first()


@pytest.mark.django_db
def test_unchanged_settings_send_the_stored_password_to_its_own_server(client_for, dba, target, fakes):
    home, elsewhere = fakes
    body = try_connection(client_for(dba), target)
    assert "Connection failed" in body and "password refused" in body
    assert home.passwords == [STORED] and elsewhere.connections == 0
    event = last_test_event()
    assert (event.actor_name, event.object_id, event.data["outcome"], event.data["password"]) == \
        (dba.username, str(target.pk), "failed", "stored")
    assert STORED not in str(event.data)


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["port", "host", "dbname", "user", "sslmode"])
def test_a_changed_connection_with_a_blank_password_sends_nothing_and_asks_for_it(change, client_for, dba, target,
                                                                                 fakes):
    home, elsewhere = fakes
    if change == "sslmode":
        TargetDatabase.objects.filter(pk=target.pk).update(sslmode="verify-full")
        target.refresh_from_db()
    changes = {"port": {"port": elsewhere.port}, "host": {"host": "localhost"}, "dbname": {"dbname": "other"},
               "user": {"user": "postgres"}, "sslmode": {"sslmode": "disable", "port": elsewhere.port}}[change]
    body = try_connection(client_for(dba), target, **changes)
    assert "Not tested, nothing was sent" in body and "Enter the password again" in body
    assert home.connections == 0 and elsewhere.connections == 0
    assert home.passwords == [] and elsewhere.passwords == []
    event = last_test_event()
    assert event.data["outcome"] == "refused" and event.data["password"] == "none"
    assert event.data["host"] == changes.get("host", target.host) and STORED not in str(event.data)


@pytest.mark.django_db
def test_the_password_typed_again_is_what_the_other_server_receives(client_for, dba, target, fakes):
    home, elsewhere = fakes
    try_connection(client_for(dba), target, port=elsewhere.port, password="typed-for-elsewhere")
    assert elsewhere.passwords == ["typed-for-elsewhere"] and home.connections == 0
    event = last_test_event()
    assert (event.data["port"], event.data["password"], event.data["outcome"]) == (elsewhere.port, "entered", "failed")
    assert "typed-for-elsewhere" not in str(event.data)


@pytest.mark.django_db
def test_testing_a_new_target_is_audited_too(client_for, dba, fakes):
    _, elsewhere = fakes
    data = {"name": "brand-new", "environment": "development", "host": "127.0.0.1", "port": elsewhere.port,
            "dbname": "shop", "user": "app", "password": "first-password", "sslmode": "prefer", "notes": ""}
    client_for(dba).post(reverse("target_test_connection"), data, HTTP_HX_REQUEST="true")
    event = last_test_event()
    assert (event.object_id, event.data["name"], event.data["outcome"]) == ("", "brand-new", "failed")
    assert elsewhere.passwords == ["first-password"] and "first-password" not in str(event.data)


@pytest.mark.django_db
def test_editing_the_connection_without_the_password_is_refused_and_changes_nothing(client_for, dba, target, fakes):
    _, elsewhere = fakes
    response = client_for(dba).post(reverse("target_edit", args=[target.pk]), submitted(target, port=elsewhere.port))
    assert response.status_code == 200 and "Enter the password again" in response.content.decode()
    target.refresh_from_db()
    assert target.port != elsewhere.port and target.password == STORED
    assert not AuditEvent.objects.filter(verb="target.changed").exists()


@pytest.mark.django_db
def test_editing_the_connection_with_the_password_again_saves_both(client_for, dba, target, fakes):
    _, elsewhere = fakes
    response = client_for(dba).post(reverse("target_edit", args=[target.pk]),
                                    submitted(target, port=elsewhere.port, password="new-home-password"))
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.port, target.password) == (elsewhere.port, "new-home-password")


@pytest.mark.django_db
def test_removing_the_password_while_moving_needs_no_password(client_for, dba, target, fakes):
    _, elsewhere = fakes
    response = client_for(dba).post(reverse("target_edit", args=[target.pk]),
                                    submitted(target, port=elsewhere.port, clear_password="on"))
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.port == elsewhere.port and target.password == ""


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["target_test_connection", "target_test_connection_existing"])
def test_only_dbas_test_connections(url_name, client_for, manager, engineer, outsider, target, fakes):
    home, _ = fakes
    url = reverse(url_name, args=[target.pk]) if url_name.endswith("existing") else reverse(url_name)
    for user in (manager, engineer, outsider):
        assert client_for(user).post(url, submitted(target)).status_code == 403
    anonymous = client_for(None).post(url, submitted(target))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert home.connections == 0 and last_test_event() is None
