"""``python -m migrations_app.lint_cli``: the lint_migration command without Django, as CI runs it."""

import io
import json
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
PLAN = ("ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);\n"
        "CREATE INDEX orders_code ON orders (code);\n")


def lint_cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "migrations_app.lint_cli", *args], cwd=ROOT, capture_output=True,
                          text=True, input=stdin, timeout=60)


def without_timings(document: str) -> dict:
    data = json.loads(document)
    data.pop("timings_ms")
    return data


def test_the_module_writes_the_same_json_report_as_the_management_command(tmp_path):
    path = tmp_path / "plan.sql"
    path.write_text(PLAN)
    out = io.StringIO()
    call_command("lint_migration", str(path), "--json", stdout=out, stderr=io.StringIO())
    proc = lint_cli(str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    assert without_timings(proc.stdout) == without_timings(out.getvalue())
    assert json.loads(proc.stdout)["statements"][1]["kind"] == "CREATE_INDEX"


def test_the_module_exits_like_the_command_on_risk_refusal_and_bad_input(tmp_path):
    assert lint_cli("-", "--fail-on", "medium", stdin="DROP TABLE customers CASCADE;").returncode == 1
    refused = lint_cli("-", stdin="ALTER TABLE t ADD COLUMN c int;\nCOMMIT;\n")
    assert refused.returncode == 3 and "-:line 2:" in refused.stderr
    bad = lint_cli("-", stdin="SELECT 1;\nALTER TABLE t ADD COLUMN;\n")
    assert bad.returncode == 2 and ":2:25: syntax error" in bad.stderr
    assert lint_cli(str(tmp_path / "missing.sql")).returncode == 2
    text = lint_cli("-", stdin=PLAN)
    assert text.returncode == 0 and "line 1: ADD_CONSTRAINT orders  lock=SHARE ROW EXCLUSIVE" in text.stdout


def test_the_module_starts_without_django(tmp_path):
    path = tmp_path / "plan.sql"
    path.write_text(PLAN)
    probe = (f"import sys; from migrations_app import lint_cli; code = lint_cli.main([{str(path)!r}]); "
             "print('exit', code, 'django loaded', 'django' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "exit 0 django loaded False" in proc.stdout, proc.stderr
