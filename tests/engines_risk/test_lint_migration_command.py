"""The lint_migration command: text and JSON output, --fail-on exit status, unreadable input."""

import io
import json

import pytest

from tests import pg
from django.core.management import call_command

PLAN = ("ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);\n"
        "CREATE INDEX orders_code ON orders (code);\n")


def run(tmp_path, sql, *args):
    path = tmp_path / "plan.sql"
    path.write_text(sql)
    out = io.StringIO()
    call_command("lint_migration", str(path), *args, stdout=out, stderr=out)
    return out.getvalue()


def test_text_output_shows_kind_lock_findings_risk_and_mitigation(tmp_path):
    text = run(tmp_path, PLAN)
    assert "static analysis only" in text
    assert "line 1: ADD_CONSTRAINT orders  lock=SHARE ROW EXCLUSIVE" in text
    assert "adding-foreign-key-constraint" in text and "risk: " in text and "mitigation" in text


def test_json_output_has_the_documented_keys(tmp_path):
    data = json.loads(run(tmp_path, PLAN, "--json"))
    stmt = data["statements"][0]
    assert {"kind", "lock", "rewrites_table", "scans_table", "transactional", "findings"} <= set(stmt)
    assert {"rule", "severity", "message"} <= set(stmt["findings"][0])
    assert {"overall_score", "risk_level", "category_scores", "factors"} <= set(data["risk"])
    assert data["mitigation"]["steps"] and data["static_only"] is True


def test_fail_on_exits_1_when_the_risk_reaches_the_level(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        run(tmp_path, "DROP TABLE customers CASCADE;", "--fail-on", "medium")
    assert exit_info.value.code == 1
    assert "risk: LOW" in run(tmp_path, "SELECT 1;", "--fail-on", "high")


def test_unparsable_input_exits_2_with_line_and_position(tmp_path):
    err = io.StringIO()
    path = tmp_path / "bad.sql"
    path.write_text("SELECT 1;\nALTER TABLE t ADD COLUMN;\n")
    with pytest.raises(SystemExit) as exit_info:
        call_command("lint_migration", str(path), stdout=io.StringIO(), stderr=err)
    assert exit_info.value.code == 2 and ":2:25: syntax error" in err.getvalue()
    with pytest.raises(SystemExit) as missing:
        call_command("lint_migration", str(tmp_path / "nope.sql"), stdout=io.StringIO(), stderr=io.StringIO())
    assert missing.value.code == 2


def test_dsn_adds_live_facts(tmp_path, shop):
    dsn = pg.dsn(shop)
    data = json.loads(run(tmp_path, "ALTER TABLE customers DROP COLUMN legacy_status;", "--dsn", dsn, "--json"))
    assert data["static_only"] is False
    assert data["dependencies"][0]["column"] == "legacy_status"
    assert "column-has-dependents" in {f["rule"] for f in data["statements"][0]["findings"]}
