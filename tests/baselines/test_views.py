"""Baselines pages: roles, the measurement form, charts, HTMX filters and progress."""

from __future__ import annotations

import pytest
from django.urls import reverse

from baselines_app.models import BaselineRun, PerformanceValidation
from targets.models import TargetDatabase
from tests.factories import BaselineRunFactory, TargetDatabaseFactory


@pytest.fixture
def measured_pair(production_target, shop, dba, client_for, django_capture_on_commit_callbacks):
    """A run of orders, the index dropped, and a replay compared with it."""
    client = client_for(dba)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("baseline_measure"), {"target": production_target.pk, "label": "before plan",
                                                  "schema": "public", "tables": "orders, customers", "query_types": ["SELECT"]})
    assert response.status_code == 302 and "/runs/" in response["Location"], response["Location"]
    before = BaselineRun.objects.get(label="before plan")
    with shop.connect(autocommit=True) as conn:
        conn.execute("DROP INDEX orders_customer_idx")
    assert before.status == BaselineRun.Status.DONE, before.error
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("baseline_measure"), {"target": production_target.pk, "label": "after plan", "schema": "public",
                                                  "query_types": ["SELECT"], "replay_of": before.pk, "compare_with": before.pk})
    return before, BaselineRun.objects.get(label="after plan")


def test_anonymous_users_are_sent_to_login_and_outsiders_are_refused(client_for, outsider):
    response = client_for(None).get(reverse("baseline_list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client_for(outsider).get(reverse("baseline_list")).status_code == 403


def test_only_a_dba_may_start_a_measurement(client_for, engineer, manager, dba):
    assert client_for(engineer).get(reverse("baseline_measure")).status_code == 403
    assert client_for(manager).post(reverse("baseline_measure"), {}).status_code == 403
    assert client_for(dba).get(reverse("baseline_measure")).status_code == 200


def test_the_form_refuses_writes_on_a_production_target(client_for, dba, db):
    target = TargetDatabaseFactory(environment=TargetDatabase.Environment.PRODUCTION)
    response = client_for(dba).post(reverse("baseline_measure"), {"target": target.pk, "label": "prod", "schema": "public",
                                                                  "query_types": ["SELECT", "DELETE"]})
    assert response.status_code == 200
    assert "Production is measured read-only" in response.content.decode()
    assert not BaselineRun.objects.exists()


def test_a_replay_after_dropping_an_index_shows_the_degradation_with_charts(measured_pair, client_for, engineer):
    before, after = measured_pair
    assert after.status == BaselineRun.Status.DONE, after.error
    validation = PerformanceValidation.objects.get(after_run=after)
    assert validation.validation_status == "DEGRADATION_DETECTED"
    page = client_for(engineer).get(reverse("baseline_validation", args=[validation.pk])).content.decode()
    assert "DEGRADATION_DETECTED" in page
    assert "Missing index for SELECT on orders" in page
    assert "became Seq Scan on orders" in page
    assert "vendor/plotly-cartesian.min.js" in page and "cdn.plot.ly" not in page
    assert page.count("plotly-graph-div") == 2  # the ratio chart and the box plots


def test_htmx_filters_return_only_the_results_fragment(measured_pair, client_for, engineer):
    _, after = measured_pair
    validation = PerformanceValidation.objects.get(after_run=after)
    response = client_for(engineer).get(reverse("baseline_validation", args=[validation.pk]),
                                        {"table": "customers", "query_type": "SELECT"}, HTTP_HX_REQUEST="true")
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert 'id="validation-results"' in fragment
    assert "SELECT customers by primary key" in fragment and "SELECT orders by customer_id" not in fragment


def test_the_run_page_lists_baselines_and_links_each_table_history(measured_pair, client_for, engineer):
    before, _ = measured_pair
    page = client_for(engineer).get(reverse("baseline_run", args=[before.pk])).content.decode()
    assert "SELECT orders by primary key (id)" in page
    assert "Index Scan using orders_pkey on orders" in page
    history = client_for(engineer).get(reverse("baseline_history", args=[before.target_id, "orders"]), {"query_type": "SELECT"})
    assert history.status_code == 200
    assert "plotly-graph-div" in history.content.decode()


def test_the_progress_fragment_polls_only_while_the_run_is_in_flight(production_target, client_for, engineer):
    run = BaselineRunFactory(target=production_target, label="queued", database_name="x", status=BaselineRun.Status.RUNNING,
                             progress={"done": 3, "total": 12, "step": "timed run 1 of 10"})
    fragment = client_for(engineer).get(reverse("baseline_run_progress", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in fragment and "round 3 of 12" in fragment
    BaselineRun.objects.filter(pk=run.pk).update(status=BaselineRun.Status.DONE)
    assert "hx-trigger" not in client_for(engineer).get(reverse("baseline_run_progress", args=[run.pk])).content.decode()


def test_the_run_pages_table_filter_has_its_options_on_first_render_and_in_every_swapped_fragment(
        measured_pair, production_target, client_for, engineer):
    client = client_for(engineer)
    # still measuring: no baseline yet, the tables it was asked for are the options
    queued = BaselineRunFactory(target=production_target, label="queued", database_name="x",
                                status=BaselineRun.Status.RUNNING, tables_filter=["orders", "customers"])
    page = client.get(reverse("baseline_run", args=[queued.pk])).content.decode()
    assert '<option value="orders">orders</option>' in page and '<option value="customers">customers</option>' in page
    # the fragment that replaces the results when the run ends (job-finished) or a filter changes
    # carries the filter with the measured tables, the chosen one still selected
    before, _ = measured_pair
    fragment = client.get(reverse("baseline_run", args=[before.pk]), {"table": "orders"},
                          HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'id="baseline-table-filter"' in fragment
    assert '<option value="orders" selected>orders</option>' in fragment
    assert '<option value="customers">customers</option>' in fragment
    assert fragment.count('name="table"') == 1
