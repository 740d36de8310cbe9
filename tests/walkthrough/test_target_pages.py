"""Fixes found by adding a target that does not answer and checking its health."""

import re

from tests.factories import TargetDatabaseFactory

ISO_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def test_health_check_of_a_down_target_shows_the_error_and_a_readable_time(dba, client_for):
    target = TargetDatabaseFactory(name="ghost", dbname="dataflow_walk_no_such_database")

    html = client_for(dba).get(f"/targets/{target.pk}/health/").content.decode()

    assert "The target cannot be checked" in html
    assert 'database &quot;dataflow_walk_no_such_database&quot; does not exist' in html
    assert not ISO_TIMESTAMP.search(html), ISO_TIMESTAMP.search(html)
    assert re.search(r"Checked \w+\.? \d+, \d{4}", html)
