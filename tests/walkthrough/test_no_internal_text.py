"""The main pages, rendered with a real analysis of the demo schema, a monitoring schedule and
audit rows with empty fields, show no Python reprs, no JSON dicts and no made-up object names."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from baselines_app.tasks import ensure_monitor_schedule
from migrations_app.engines.plan_analysis import analyze_plan
from migrations_app.plan_sql import plan_operations
from targets.models import AuditEvent
from tests.factories import AnalysisRunFactory, MigrationPlanFactory, TargetDatabaseFactory

DEMO_SCHEMA = (Path(__file__).resolve().parents[2] / "migrations_app/demo/demo_shop_schema.sql").read_text()

PLAN_SQL = """ALTER TABLE customers ALTER COLUMN full_name TYPE varchar(200);
ALTER TABLE customers DROP COLUMN legacy_status;
ALTER TABLE orders ADD COLUMN channel text NOT NULL"""

REPRS = [
    (re.compile(r"\(\d+, \["), "a tuple repr"),
    (re.compile(r"\[['\"]"), "a list repr"),
    (re.compile(r"\{['\"]"), "a dict repr"),
    (re.compile(r"\b(None|True|False)\b"), "a Python constant"),
    (re.compile(r"object at 0x|datetime\.|Decimal\("), "an object repr"),
    (re.compile(r"\w+\.\w+ NOT NULL\b"), "NOT NULL shown as an object's name"),
    (re.compile(r"^\s*\w+ ·|· *$", re.M), "an empty labelled field"),
]


class _TextOnly(HTMLParser):
    """Text nodes a reader sees, one cell per line; SQL blocks, form fields and scripts are
    skipped (they hold the user's own text or data for the browser)."""

    SKIP = {"head", "pre", "textarea", "script", "style", "select"}

    def __init__(self):
        super().__init__()
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.depth += 1
        elif tag in ("td", "th", "li", "p", "div", "br", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.depth = max(self.depth - 1, 0)

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def visible(page: str) -> str:
    parser = _TextOnly()
    parser.feed(page)
    return re.sub(r"[ \t]+", " ", "".join(parser.parts))


@pytest.fixture
def demo_plan(target_db, dba):
    demo = target_db(DEMO_SCHEMA)
    target = TargetDatabaseFactory.for_connection(demo, name="demo-shop")
    plan = MigrationPlanFactory(author=dba, target=target, title="Retire legacy status", sql=PLAN_SQL)
    AnalysisRunFactory(plan=plan, report=analyze_plan(plan_operations(plan), demo, "public").to_dict())
    ensure_monitor_schedule(target.pk, ["customers", "orders"], 30)
    AuditEvent.record(dba, "staging.replication_failed", plan, data={"error": "", "attempts": 2, "tables": ["a", "b"]})
    return plan


def test_main_pages_show_no_repr_of_tuples_lists_or_dicts(demo_plan, dba, client_for):
    client = client_for(dba)
    urls = ["/", "/plans/", "/plans/queue/", "/audit/", "/baselines/", "/incidents/", "/alerts/", "/staging/",
            "/targets/"]
    urls += [f"{demo_plan.get_absolute_url()}?tab={tab}"
             for tab in ("operations", "dependencies", "risk", "mitigation", "history")]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = visible(response.content.decode())
        for pattern, what in REPRS:
            found = pattern.search(text)
            assert found is None, f"{url} shows {what}: …{text[max(found.start() - 80, 0):found.end() + 80]}…"


def test_monitoring_names_its_tables_and_a_not_null_reads_as_a_column_property(demo_plan, dba, client_for):
    client = client_for(dba)
    baselines = visible(client.get("/baselines/").content.decode())
    assert "\ncustomers, orders\n" in baselines
    dependencies = visible(client.get(f"{demo_plan.get_absolute_url()}?tab=dependencies").content.decode())
    assert "NOT NULL on public.customers.full_name" in dependencies
    audit = visible(client.get("/audit/").content.decode())
    assert "tables a, b · attempts 2" in audit and "error" not in audit
