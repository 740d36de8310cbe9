"""Audit data reads as labelled values on the plan history and the audit page, never as a repr."""

from migrations_app import workflow


def test_plan_history_and_audit_page_show_a_rejection_without_a_python_repr(plan, dba, other_dba, manager, client_for):
    workflow.transition(plan, workflow.ANALYSABLE, "IN_REVIEW", None, "plan.analysed")
    workflow.sign_off(plan, manager, "reject", "Needs a backup first")

    for url in (f"{plan.get_absolute_url()}?tab=history", "/audit/"):
        html = client_for(other_dba).get(url).content.decode()
        assert "{&#x27;" not in html and "{'" not in html, url
        assert "IN_REVIEW → REJECTED" in html, url
        assert "Needs a backup first" in html, url
        assert plan.sql_hash[:12] in html and plan.sql_hash not in html.replace(f'title="{plan.sql_hash}"', ""), url
