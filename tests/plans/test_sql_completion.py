"""The SQL editor's completion list (GET /plans/sql-completion/<target>/), read from a real
PostgreSQL target: every relation kind in every non-system schema with its columns, in one
catalog query, bounded, cached briefly, for DBAs only, and a quiet JSON error (never a 500,
never a secret) for a target that cannot be reached."""

import uuid

import psycopg
import pytest
from django.core.cache import cache
from django.urls import reverse

from migrations_app import permissions
from targets.engines.completion import read_completion_catalog
from tests.factories import TargetDatabaseFactory

pytestmark = pytest.mark.django_db

SCHEMA = """
CREATE TABLE public.customers (id bigint PRIMARY KEY, email text, legacy_status text, created_at timestamptz);
ALTER TABLE public.customers DROP COLUMN legacy_status;
CREATE SCHEMA "Sales";
CREATE TABLE "Sales"."Orders" (id int, customer_id bigint, "Total" numeric);
CREATE TABLE public.events (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE public.events_2026 PARTITION OF public.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE VIEW public.customer_emails AS SELECT id, email FROM public.customers;
CREATE MATERIALIZED VIEW "Sales".order_totals AS
    SELECT customer_id, sum("Total") AS total FROM "Sales"."Orders" GROUP BY customer_id;
CREATE SEQUENCE public.invoice_numbers;
CREATE INDEX customers_email ON public.customers (email);
CREATE TYPE public.money_pair AS (amount numeric, currency text);
"""
PASSWORD = "s3cret-Completion-pw"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def live(target_db):
    conn = target_db(SCHEMA)
    # trust auth ignores the password; it is stored (encrypted) so the test can look for leaks
    return conn, TargetDatabaseFactory(name="shop", host=conn.host, port=conn.port, dbname=conn.dbname,
                                       user=conn.user, password=PASSWORD)


def _get(client, target_pk):
    return client.get(reverse("sql_completion", args=[target_pk]))


def test_a_dba_gets_every_relation_kind_with_its_columns_and_nothing_of_the_system(live, dba, client_for):
    conn, target = live
    response = _get(client_for(dba), target.pk)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["ok"] is True and data["error"] == "" and data["target"] == "shop"
    assert data["schemas"] == {
        "public": {
            "customers": {"kind": "table", "columns": ["id", "email", "created_at"]},  # the dropped column is gone
            "customer_emails": {"kind": "view", "columns": ["id", "email"]},
            "events": {"kind": "partitioned table", "columns": ["id", "at"]},
            "events_2026": {"kind": "table", "columns": ["id", "at"]},
        },
        "Sales": {
            "Orders": {"kind": "table", "columns": ["id", "customer_id", "Total"]},
            "order_totals": {"kind": "materialized view", "columns": ["customer_id", "total"]},
        },
    }
    assert data["relation_count"] == 6 and data["truncated"] is False and "note" not in data
    assert PASSWORD not in response.content.decode()


def test_the_catalog_is_read_in_one_query_and_the_bound_keeps_partitions_last(live, monkeypatch):
    conn, _ = live
    statements = []
    execute = psycopg.Connection.execute

    def counting(self, query, *args, **kwargs):
        statements.append(query)
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", counting)
    catalog = read_completion_catalog(conn)
    assert catalog.ok and catalog.relation_count == 6
    assert len(statements) == 1

    bounded = read_completion_catalog(conn, limit=5)
    assert bounded.ok and bounded.truncated and bounded.relation_count == 5
    names = {name for relations in bounded.schemas.values() for name in relations}
    assert "events_2026" not in names and {"customers", "events", "Orders"} <= names
    assert "first 5 relations" in bounded.as_dict()["note"]


def test_the_answer_is_cached_per_target_for_a_while(live, dba, client_for):
    conn, target = live
    client = client_for(dba)
    assert "customer_emails" in _get(client, target.pk).json()["schemas"]["public"]
    with conn.connect(autocommit=True) as c:
        c.execute("DROP VIEW public.customer_emails")
    assert "customer_emails" in _get(client, target.pk).json()["schemas"]["public"]  # from the cache
    cache.clear()
    assert "customer_emails" not in _get(client, target.pk).json()["schemas"]["public"]  # read anew


@pytest.mark.parametrize("persona", ["manager", "engineer", "outsider"])
def test_only_dbas_read_a_targets_tables(live, persona, request, client_for):
    _, target = live
    user = request.getfixturevalue(persona)
    response = _get(client_for(user), target.pk)
    assert response.status_code == 403
    assert b"customers" not in response.content
    assert not permissions.can_read_target_catalog(user)


def test_anonymous_users_go_to_the_login_page_and_a_post_is_refused(live, dba, client_for):
    _, target = live
    response = _get(client_for(None), target.pk)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client_for(dba).post(reverse("sql_completion", args=[target.pk])).status_code == 405
    assert _get(client_for(dba), 999_999).status_code == 404


def test_an_unreachable_target_answers_a_quiet_error_without_secrets_and_is_not_cached(dba, client_for):
    target = TargetDatabaseFactory(name="gone", host="127.0.0.1", port=9, password=PASSWORD)
    client = client_for(dba)
    response = _get(client, target.pk)
    assert response.status_code == 200
    data = response.json()
    assert data["ok"] is False and data["schemas"] == {} and data["relation_count"] == 0
    assert data["error"].startswith("cannot connect to postgres@127.0.0.1:9/postgres")
    assert PASSWORD not in response.content.decode()


def test_a_failure_is_not_cached_so_a_target_that_comes_back_is_completed_at_once(dba, client_for):
    from tests import pg

    name = f"{pg.THROWAWAY_PREFIX}{uuid.uuid4().hex[:12]}"
    server = pg.server_connection(name)
    target = TargetDatabaseFactory(name="late", host=server.host, port=server.port, dbname=name, user=server.user)
    client = client_for(dba)
    first = _get(client, target.pk).json()
    assert first["ok"] is False and name in first["error"]  # the database does not exist yet
    pg.create_database("CREATE TABLE back_again (id int);", name=name)
    try:
        again = _get(client, target.pk).json()  # same target, same settings: asked again
        assert again["ok"] is True and again["schemas"] == {"public": {"back_again": {"kind": "table", "columns": ["id"]}}}
    finally:
        pg.drop_database(name)
