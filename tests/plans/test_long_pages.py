"""Long plans and long queues are shown a page at a time: the page's work does not grow with them."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import MigrationPlanFactory, TargetDatabaseFactory, analyse


def test_a_plan_of_250_statements_shows_100_operations_a_page_with_the_total_in_the_header(dba, client_for):
    sql = ";\n".join(f"ALTER TABLE orders ADD COLUMN c{i} text" for i in range(250)) + ";"
    plan = MigrationPlanFactory(author=dba, sql=sql)
    client = client_for(dba)
    first = client.get(plan.get_absolute_url()).content.decode()
    assert "250 operations" in first and "Operations 1–100 of 250" in first
    assert "ADD COLUMN c99 text" in first and "ADD COLUMN c100 text" not in first
    last = client.get(plan.get_absolute_url() + "?tab=operations&ops=3").content.decode()
    assert "ADD COLUMN c249 text" in last and "Operations 201–250 of 250" in last


def test_the_plan_list_counts_operations_for_the_rows_shown_in_a_constant_number_of_queries(dba, client_for):
    target = TargetDatabaseFactory()
    for i in range(3):
        MigrationPlanFactory(author=dba, target=target, sql=f"ALTER TABLE t ADD COLUMN a{i} int; ALTER TABLE t ADD COLUMN b{i} int;")
    client = client_for(dba)
    client.get(reverse("plan_list"))
    with CaptureQueriesContext(connection) as few:
        page = client.get(reverse("plan_list")).content.decode()
    for i in range(30):
        MigrationPlanFactory(author=dba, target=target, sql=f"ALTER TABLE t ADD COLUMN x{i} int;")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("plan_list"))
    assert len(many) == len(few)
    assert "<td>2</td>" in page


def test_the_approval_queue_pages_its_plans(dba, manager, client_for):
    target = TargetDatabaseFactory()
    for i in range(55):
        analyse(MigrationPlanFactory(author=dba, target=target, sql=f"ALTER TABLE t ADD COLUMN q{i} int;"), "HIGH")
    page = client_for(manager).get(reverse("plan_queue")).content.decode()
    assert "55 plans" in page and "page 1 of 2" in page
    dashboard = client_for(manager).get(reverse("dashboard")).content.decode()
    assert "All 55 awaiting my sign-off" in dashboard
