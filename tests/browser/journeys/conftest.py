"""Journeys: the demo seeded exactly as ``make run`` seeds it (``manage.py seed_demo``), but on a
throwaway target database, and helpers to walk it in headless chromium as the demo users.

``demo`` (fixture) gives the seeded demo: the ``demo_shop`` target (production, masking rules,
health checked), the demo users ``dba``, ``dba2``, ``manager``, ``engineer`` (password
``DEMO_PASSWORD``) enrolled in step-up with an authenticator as ``seed_demo`` enrols them, step-up
on for DBAs and managers (the default when ``DATAFLOW_STEP_UP_ROLES`` is unset), and the demo
plans, analysed for real by ``migrations_app.demo.ensure_demo_plans``.

Loading demo_shop (about 600,000 rows) takes 15-30 s, so it is loaded once into a template
database (``dftest_demotpl_<hash of the demo SQL>``, built under an advisory lock so xdist workers
share it, kept between runs) and each test gets its own copy (``CREATE DATABASE ... TEMPLATE``,
about a second), dropped after the test like every ``target_db`` database.

Seeding the app's side (users, authenticators, the target, the four analyses of the demo plans,
about 10 s: each analysis samples write rates for 2 s) is done for real once per test process, by
the first ``demo`` test it runs; the app rows it made are then serialized (as Django's
``serialized_rollback`` serializes the database) and every later ``demo`` test of the process
loads those rows back instead of analysing again. Every copy of demo_shop in a process has the same
name and content (the same template), and an analysis is bound to the target's host, port, database
name and user, so the loaded analyses are current, as they would be had they been run on that test's
copy. Between tests the app database is flushed as usual (serialized_rollback), so every test still
starts from exactly the seeded demo.

Helpers: ``login_as(page, live_server, role)``, ``step_up(page, username)`` (fills the
authenticator-code field when the form shows one), ``shot(page, name)`` (a viewport screenshot
in docs/screenshots/journeys/<name>.png, only with ``DATAFLOW_SCREENSHOTS=1``).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from psycopg import sql

from tests import pg
from tests.browser.conftest import login

REPO = Path(__file__).resolve().parents[3]
SHOTS = REPO / "docs/screenshots/journeys"
DEMO_PASSWORD = "demo-pass-1"
SLOW = 120_000  # ms: a step that runs a job inside the request (rehearsal, copy, execution) on a busy CI machine
TEMPLATE_LOCK = 7_316_001  # pg_advisory_lock key: one builder of the demo template at a time


def _demo_sql() -> tuple[str, str]:
    from migrations_app.demo import DEMO_DIR

    return (DEMO_DIR / "demo_shop_schema.sql").read_text(), (DEMO_DIR / "demo_shop_data.sql").read_text()


@pytest.fixture(scope="session")
def demo_template(django_db_blocker) -> str:
    """The name of a database holding demo_shop loaded as seed_demo loads it (schema and data in one
    transaction, then ANALYZE). Built once; a template whose SQL changed is replaced."""
    schema, data = _demo_sql()
    digest = hashlib.sha256((schema + "\0" + data).encode()).hexdigest()[:12]
    name = f"{pg.THROWAWAY_PREFIX}demotpl_{digest}"
    with django_db_blocker.unblock(), pg.admin_connect() as admin:
        admin.execute("SELECT pg_advisory_lock(%s)", [TEMPLATE_LOCK])
        try:
            ready = admin.execute("SELECT shobj_description(oid, 'pg_database') = 'ready' FROM pg_database "
                                  "WHERE datname = %s", [name]).fetchone()
            if not (ready and ready[0]):
                stale = admin.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                      [f"{pg.THROWAWAY_PREFIX}demotpl\\_%"]).fetchall()
                for (old,) in stale:
                    pg.drop_database(old)
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                with pg.server_connection(name).connect() as conn:
                    with conn.transaction():  # as ensure_demo_database: one transaction
                        conn.execute(schema)
                        conn.execute(data.replace("ANALYZE;", ""))
                with pg.server_connection(name).connect(autocommit=True) as conn:
                    conn.execute("ANALYZE")
                admin.execute(sql.SQL("COMMENT ON DATABASE {} IS 'ready'").format(sql.Identifier(name)))
        finally:
            admin.execute("SELECT pg_advisory_unlock(%s)", [TEMPLATE_LOCK])
    return name


@dataclass
class Demo:
    target: object
    connection: object  # TargetConnection to this test's demo_shop copy
    users: dict = field(default_factory=dict)  # username -> User

    def plan(self, title: str):
        from migrations_app.models import MigrationPlan

        return MigrationPlan.objects.get(target=self.target, title=title)

    def plans_at(self, *levels: str):
        from migrations_app.models import MigrationPlan

        return list(MigrationPlan.objects.filter(target=self.target, risk_level__in=levels).order_by("pk"))


@pytest.fixture
def demo_database(demo_template):
    """A TargetConnection to a fresh copy of demo_shop, dropped after the test. The copy has the
    same name in every test of this process (``dftest_demo_<pid>``): the analyses of the seeded
    demo plans are bound to the target's database name (``connection_identity``), so the rows of
    the first seeding are current for every later copy (see ``_load_seeded_rows``)."""
    from django.core.cache import cache

    from targets.engines.pool import close_pools

    name = f"{pg.THROWAWAY_PREFIX}demo_{os.getpid()}"
    pg.drop_database(name)  # a copy left by a test process killed before its clean-up
    # nothing this process kept of an earlier copy of the same name is used on this one
    close_pools(lambda key: key.dbname == name)
    cache.clear()  # e.g. the SQL editor's completion catalog of the earlier copy (per process, locmem)
    with pg.admin_connect() as admin:
        for attempt in range(20):  # the template must have no sessions: another worker may be copying it
            try:
                admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                              sql.Identifier(demo_template)))
                break
            except Exception as exc:  # noqa: BLE001 - "source database is being accessed by other users"
                if "being accessed" not in str(exc) or attempt == 19:
                    raise
                time.sleep(0.5)
    conn = pg.server_connection(name)
    try:
        with conn.connect(autocommit=True) as c:
            c.execute("ANALYZE")  # statistics counters are per database: read them afresh, as after a load
        yield conn
    finally:
        close_pools(lambda key: key.dbname == name)
        pg.drop_database(name)


AUTO_FIELDS = ("AutoField", "BigAutoField", "SmallAutoField")
_SEEDED: dict = {}  # this process' seeded demo: {"rows": the app rows as JSON, "target": the target's pk}


def _save_seeded_rows(target) -> None:
    """Keep the app rows the first seeding made (the whole app database, as serialized_rollback keeps it)."""
    from django.db import connection

    _SEEDED.update(rows=connection.creation.serialize_db_to_string(), target=target.pk)


def _load_seeded_rows(demo_database):
    """Load the rows the first seeding made into the (flushed and restored) app database. The demo
    target they hold names this test's copy of demo_shop (the same name in every test of the
    process). Returns the target."""
    from django.apps import apps
    from django.db import connection

    from targets.models import TargetDatabase

    connection.creation.deserialize_db_from_string(_SEEDED["rows"])
    # The rows came back with their ids: a sequence behind the largest id moves past it (never back).
    with connection.cursor() as cursor:
        for model in apps.get_models():
            pk = model._meta.pk
            if not model._meta.managed or model._meta.proxy or pk.get_internal_type() not in AUTO_FIELDS:
                continue
            table, column = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(pk.column)
            cursor.execute(f"SELECT setval(s, m) FROM (SELECT pg_get_serial_sequence(%s, %s) AS s, "
                           f"(SELECT max({column}) FROM {table}) AS m) x "
                           f"WHERE s IS NOT NULL AND m > coalesce(pg_sequence_last_value(s::regclass), 0)",
                           [table, pk.column])
    return TargetDatabase.objects.get(pk=_SEEDED["target"], dbname=demo_database.dbname)


@pytest.fixture
def demo(demo_database, settings, tmp_path):
    """The demo as ``seed_demo`` makes it, on this test's copy of demo_shop."""
    from django.contrib.auth.models import Group, User
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from migrations_app import demo as seed
    from migrations_app.demo.authenticators import ensure_demo_authenticators
    from targets.tasks import refresh_target_health

    settings.DATAFLOW_STEP_UP_ROLES = None  # unset, as in `make run`: DBAs and managers step up
    if _SEEDED:
        target = _load_seeded_rows(demo_database)
    else:
        for username, role in seed.DEMO_USERS:
            user = User.objects.create_user(username=username, password=DEMO_PASSWORD,
                                            email=f"{username}@demo.local")
            # get_or_create: an earlier transactional test flushed the groups the data migration made
            user.groups.add(Group.objects.get_or_create(name=role)[0])
        ensure_demo_authenticators(tmp_path / "demo-credentials.txt", log=lambda *_: None)
        target = seed.ensure_demo_target(log=lambda *_: None, dbname=demo_database.dbname)
        seed.ensure_demo_plans(target, log=lambda *_: None)
        _save_seeded_rows(target)
    users = {user.username: user for user in User.objects.filter(username__in=[u for u, _ in seed.DEMO_USERS])}
    assert len(users) == len(seed.DEMO_USERS)
    assert TOTPDevice.objects.filter(user__username__in=users, confirmed=True).count() == len(users)
    assert seed.ensure_demo_plans(target, log=lambda *_: None) == 0  # the plans are there: nothing to seed
    refresh_target_health(target.pk)
    target.refresh_from_db()
    yield Demo(target=target, connection=demo_database, users=users)
    # staging copies made in the journey live on the same server: drop them through the product's guard
    from staging_app.engines import guard
    from staging_app.models import StagingEnvironment

    server = pg.server_connection("postgres")
    for staging_id, name in StagingEnvironment.objects.values_list("staging_id", "database_name"):
        guard.drop_staging_database(server, name, staging_id, allow_unmarked=True)


# Browser helpers -------------------------------------------------------------------------

def login_as(page, live_server, role: str) -> None:
    """Sign in as a demo user: ``dba``, ``dba2``, ``manager`` or ``engineer``."""
    login(page, live_server, role, DEMO_PASSWORD)


def totp_code(username: str) -> str:
    """The authenticator code the demo user's app would show now (a later step if this step's code
    was already used: django-otp accepts each code once, with one step of drift)."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    t = totp.t()
    if device.last_t is not None and device.last_t >= t:
        totp.time += device.step * (device.last_t + 1 - t)
    return f"{totp.token():0{device.digits}d}"


def step_up(page, username: str, scope: str = "body") -> bool:
    """Type the authenticator code into the step-up field of the form in ``scope``, if it asks for one
    (not when the session confirmed recently). Returns whether a code was typed."""
    field = page.locator(f"{scope} input[name=step_up_code]")
    if field.count() == 0 or not field.first.is_visible():
        return False
    label = field.first.locator("xpath=..").inner_text()
    if "confirmed recently" in label:
        return False
    field.first.fill(totp_code(username))
    return True


def shot(page, name: str) -> None:
    """A viewport screenshot in docs/screenshots/journeys/<name>.png, only when DATAFLOW_SCREENSHOTS=1
    (CI does not rewrite the repository's pictures)."""
    if os.environ.get("DATAFLOW_SCREENSHOTS") != "1":
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
