"""A long error message on an execution page (e.g. a rollback that could not restore a random
pick's rows, one line of ~300 characters) wraps inside its card: it never widens the page past
the window (it did: a 1400-px window got a 2756-px page, the status card stretched across it)."""

from __future__ import annotations

import pytest

from migrations_app.models import Execution
from tests.browser.conftest import login
from tests.factories import ExecutionFactory, MigrationPlanFactory, TargetDatabaseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ERROR = ("Rollback incomplete: schema verified (the digest equals the one before the migration); data NOT "
         "restored: operation 1 (DELETE payments): the WHERE picks rows with LIMIT and calls random(), a volatile "
         "function (no copy taken beforehand can be known to hold the same rows).")


def test_a_long_error_wraps_inside_the_status_card(browser_page, live_server, target_db, dba):
    target = TargetDatabaseFactory.for_connection(target_db("CREATE TABLE t (id int)"), name="layout")
    plan = MigrationPlanFactory(target=target, author=dba, sql="DELETE FROM t WHERE id = 1")
    execution = ExecutionFactory(plan=plan, user=dba, status=Execution.Status.FAILED, error=ERROR)
    page = browser_page
    login(page, live_server, dba.username, "pw-" + dba.username)
    page.goto(f"{live_server.url}{execution.get_absolute_url()}")
    page.wait_for_selector("pre.error")
    assert page.inner_text("pre.error") == ERROR
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth,"
                           " document.querySelector('pre.error').scrollWidth,"
                           " document.querySelector('pre.error').clientWidth]")
    page_width, window_width, error_scroll, error_client = widths
    assert page_width <= window_width, widths
    assert error_scroll <= error_client, widths  # wrapped, not a scrolled single line
