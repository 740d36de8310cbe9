"""Audit data reads as labelled values on the plan history and the audit page, never as a repr."""

import re

from migrations_app import workflow
from tests.factories import analyse


def test_plan_history_and_audit_page_show_a_rejection_without_a_python_repr(plan, dba, other_dba, manager, client_for):
    analyse(plan, "HIGH")  # a sign-off needs an analysis of the current SQL on the current target
    workflow.sign_off(plan, manager, "reject", "Needs a backup first")

    for url in (f"{plan.get_absolute_url()}?tab=history", "/audit/"):
        html = client_for(other_dba).get(url).content.decode()
        assert "{&#x27;" not in html and "{'" not in html, url
        assert "IN_REVIEW → REJECTED" in html, url
        assert "Needs a backup first" in html, url
        # short hashes on the page; the full one only in a tooltip
        assert plan.sql_hash[:12] in html and plan.sql_hash not in re.sub(r'title="[^"]*"', "", html), url
