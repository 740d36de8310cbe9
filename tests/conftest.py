"""Shared fixtures: personas, throwaway target databases, settings for tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import pg

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _test_settings(settings, monkeypatch):
    # django-q2 reads its configuration once at import: switch the live Conf to synchronous
    # execution so a queued task runs inside the request that queued it.
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Step-up (TOTP) is off unless a test turns it on: tests/security/test_step_up.py covers it.
    settings.DATAFLOW_STEP_UP_ROLES = []


@pytest.fixture(scope="session", autouse=True)
def _flush_passes_the_audit_truncate_guard():
    """Transactional tests are cleaned up with TRUNCATE, which the audit table refuses (as it
    should in production). Only the test runner's flush lifts the guard, inside its transaction."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush
    guard = "ALTER TABLE migrations_app_auditevent {} TRIGGER migrations_app_auditevent_no_truncate;"

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        if "migrations_app_auditevent" in tables and statements:
            return [guard.format("DISABLE"), *statements, guard.format("ENABLE")]
        return statements

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


@pytest.fixture
def target_db():
    """Factory: ``target_db(sql_text)`` creates a database, loads the SQL, and returns a
    ``TargetConnection`` to it. Every database made is dropped after the test."""
    made = []

    def make(sql_text: str = "") -> "pg.TargetConnection":
        target = pg.create_database(sql_text)
        made.append(target.dbname)
        return target

    yield make
    for name in made:
        pg.drop_database(name)


@pytest.fixture
def fixture_sql():
    """``fixture_sql("case")`` returns the text of ``tests/fixtures/case/schema.sql``."""

    def read(case: str) -> str:
        return (FIXTURES / case / "schema.sql").read_text()

    return read


@pytest.fixture
def analysed(db):
    """``analysed(plan, "HIGH")``: a finished analysis of the plan's current SQL at that level,
    through the workflow (tests/factories.py ``analyse``); returns the plan, refreshed."""
    from tests.factories import analyse

    return analyse


# Personas -----------------------------------------------------------------------------

def _persona(django_user_model, username: str, group: str | None):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username=username, password="pw-" + username, email=f"{username}@example.com")
    if group:
        # get_or_create: a transactional test earlier in this worker flushed the groups the
        # data migration made (Django's flush empties every table).
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def dba(db, django_user_model):
    return _persona(django_user_model, "dba_alice", "DBA")


@pytest.fixture
def other_dba(db, django_user_model):
    return _persona(django_user_model, "dba_bob", "DBA")


@pytest.fixture
def manager(db, django_user_model):
    return _persona(django_user_model, "manager_carol", "Manager")


@pytest.fixture
def engineer(db, django_user_model):
    return _persona(django_user_model, "engineer_dave", "Engineer")


@pytest.fixture
def outsider(db, django_user_model):
    return _persona(django_user_model, "outsider_eve", None)


@pytest.fixture
def client_for(client):
    """``client_for(user)``: a test client logged in as that user (None: anonymous)."""
    from django.test import Client

    def make(user):
        c = Client()
        if user is not None:
            c.force_login(user)
        return c

    return make


def pytest_configure(config):
    """`make test` runs ``-n 2 --dist loadfile``. xdist would queue the files by their number of
    tests, largest first, which queued the one- and two-test browser files (30-100 s each, the
    slowest files) among the last, where one of them can leave a worker running alone at the end.
    Files are queued in collection order instead, which ``pytest_collection_modifyitems`` below
    makes slowest first."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def _queue_weight(item) -> int:
    """Roughly what a test costs: one on the app database (a request or two, a target database,
    at least a rollback) about a second, a transactional one several (it flushes and restores the
    app database, and most make target databases), one without a database next to nothing."""
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    if (marker is not None and marker.kwargs.get("transaction")) or "live_server" in fixtures:
        return 5
    return 1 if marker is not None or "db" in fixtures or "target_db" in fixtures else 0


def _queue_ranks(items) -> dict:
    """Longest files first (with two workers the short ones fill in at the end): the browser
    journeys, then the other browser tests, then the other files by their summed
    ``_queue_weight``, down to the files of plain unit tests."""
    weights: dict = {}
    for item in items:
        weights[item.path] = weights.get(item.path, 0) + _queue_weight(item)
    ranks = {}
    for item in items:
        if item.path not in ranks:
            kind = 0 if "journeys" in item.path.parts else 1 if item.get_closest_marker("browser") else 2
            ranks[item.path] = (kind, -weights[item.path])
    return ranks


def pytest_collection_modifyitems(items):
    """A transactional test without serialized rollback flushes the database and lets post_migrate
    re-create content types, so the next serialized test in that worker fails on duplicates. Every
    transactional test here restores the serialized database; this refuses one that does not.
    Then the slowest files go first (see ``pytest_configure``); the order within a file is kept."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            raise pytest.UsageError(f"{item.nodeid}: use @pytest.mark.django_db(transaction=True, "
                                    "serialized_rollback=True) (see tests/conftest.py)")
    ranks = _queue_ranks(items)
    items.sort(key=lambda item: ranks[item.path])  # stable: files stay whole, in collection order within a rank
