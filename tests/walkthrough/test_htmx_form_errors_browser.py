"""In chromium: a form fragment that comes back with its errors (HTTP 422) replaces the form."""

import pytest

from tests.browser.conftest import browser_page, fill_sql, login  # noqa: F401  (fixture)
from tests.walkthrough.conftest import ADD_NICKNAME

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_adding_an_operation_with_a_syntax_error_shows_the_error_under_the_form(browser_page, live_server, django_user_model):  # noqa: F811
    from django.contrib.auth.models import Group

    from migrations_app import workflow
    from tests.factories import TargetDatabaseFactory

    dba = django_user_model.objects.create_user("dba", password="dba-pass-1")
    dba.groups.add(Group.objects.get_or_create(name="DBA")[0])
    plan = workflow.create_plan(dba, target=TargetDatabaseFactory(), title="Add nickname", operations=[ADD_NICKNAME])
    page = browser_page
    login(page, live_server, "dba", "dba-pass-1")
    page.goto(f"{live_server.url}{plan.get_absolute_url()}")

    fill_sql(page, "ALTER TABLE products ADD COLUMN", within="#operations form")
    page.click("#operations form button:has-text('Add operation')")

    page.wait_for_selector("#operations form .error:has-text('Syntax error at line 1')")
    assert page.locator("#operations form textarea[name=sql]").input_value() == "ALTER TABLE products ADD COLUMN"
    assert plan.operations.count() == 1
