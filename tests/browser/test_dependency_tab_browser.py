"""In headless chromium: the dependency tab of a plan that drops a column of a partitioned table
(read through a view on a view) shows the partitions grouped, the partition key, and the graph."""

import os
from pathlib import Path

import pytest

from migrations_app.models import MigrationPlan
from tests.browser.conftest import fill_sql, login
from tests.factories import TargetDatabaseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SCHEMA = """
CREATE TABLE visits (id bigint, seen date NOT NULL, page text) PARTITION BY RANGE (seen);
CREATE TABLE visits_2025 PARTITION OF visits FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE visits_2026 PARTITION OF visits FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE VIEW pages AS SELECT page FROM visits;
CREATE VIEW page_counts AS SELECT page, count(*) FROM pages GROUP BY page;
"""


def test_the_dependency_tab_groups_partitions_and_shows_the_partition_key(browser_page, live_server, target_db,
                                                                          django_user_model):
    from django.contrib.auth.models import Group

    conn = target_db(SCHEMA)
    target = TargetDatabaseFactory(name="visits", host=conn.host, port=conn.port, dbname=conn.dbname, user=conn.user)
    dba = django_user_model.objects.create_user("dba", password="dba-pass-1")
    dba.groups.add(Group.objects.get_or_create(name="DBA")[0])
    page = browser_page
    login(page, live_server, "dba", "dba-pass-1")
    page.goto(f"{live_server.url}/plans/new/")
    page.fill("input[name=title]", "Drop visits.page")
    page.select_option("select[name=target]", str(target.pk))
    fill_sql(page, "ALTER TABLE visits DROP COLUMN page;")
    page.click("button:has-text('Create plan')")
    page.wait_for_selector("h1:has-text('Drop visits.page')")
    page.click("button:has-text('Analyse')")
    page.wait_for_selector("#analysis-status :text('Done')")
    page.click(".tabs >> text=Dependencies")
    page.wait_for_selector("#dep-table")
    table = page.inner_text("#dep-table")
    assert "2 inherited columns" in table and "page_counts" in table
    assert "Partition key of public.visits: RANGE (seen)" in page.inner_text("#dependencies")
    assert page.locator("#dependencies .plotly-graph-div").count() == 1
    shot = os.environ.get("DATAFLOW_SCREENSHOT_DIR")
    if shot:
        page.locator("#dependencies").screenshot(path=str(Path(shot) / "dependency-tab.png"))
    assert MigrationPlan.objects.get().status != "FAILED"
