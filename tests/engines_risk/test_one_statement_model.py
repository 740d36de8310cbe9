"""One statement model: review, rollback planner, rehearsal and executor read the same facts."""

from __future__ import annotations

import pytest

from migrations_app.engines.statements import MigrationOperation, parse_script
from migrations_app.engines.plan_analysis import analyze_plan
from migrations_app.engines.rehearsal.rehearse import static_facts
from migrations_app.engines.rollback import build_rollback_plan

# (sql, rollback sql): includes the three statements the review and the executor used to disagree on
CORPUS = [
    ("REINDEX SCHEMA s", None),
    ("DROP SCHEMA s CASCADE", "CREATE SCHEMA s"),
    ("ALTER TABLE t ALTER COLUMN c TYPE int", "ALTER TABLE t ALTER COLUMN c TYPE bigint"),
    ("ALTER TABLE t ALTER COLUMN c TYPE bigint", "ALTER TABLE t ALTER COLUMN c TYPE int"),
    ("ALTER TABLE t ALTER COLUMN c TYPE varchar(10)", None),
    ("ALTER TABLE t ADD COLUMN n text", "ALTER TABLE t DROP COLUMN n"),
    ("ALTER TABLE t DROP COLUMN c", None),
    ("DROP TABLE t", None), ("DROP TABLE t CASCADE", None), ("TRUNCATE t", None), ("TRUNCATE t CASCADE", None),
    ("DELETE FROM t WHERE a > 1", None), ("UPDATE t SET b = 1 WHERE a = 2", None), ("UPDATE t SET b = 1", None),
    ("CREATE INDEX CONCURRENTLY i ON t (a)", "DROP INDEX CONCURRENTLY i"), ("CREATE INDEX i ON t (a)", "DROP INDEX i"),
    ("DROP INDEX CONCURRENTLY i", None), ("REINDEX INDEX CONCURRENTLY i", None), ("REINDEX TABLE t", None),
    ("VACUUM t", None), ("VACUUM FULL t", None), ("ANALYZE t", None), ("CLUSTER", None),
    ("ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY", None), ("ALTER TYPE mood ADD VALUE 'meh'", None),
    ("DO $$ BEGIN EXECUTE 'DROP TABLE t'; END $$", None), ("DO $$ BEGIN EXECUTE 'VACUUM t'; END $$", None),
    ("DROP VIEW v", None), ("DROP SEQUENCE s1", None), ("CREATE TABLE n (id int)", "DROP TABLE n"),
    ("MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE", None),
]


@pytest.mark.parametrize("sql, rollback", CORPUS, ids=[s for s, _ in CORPUS])
def test_every_consumer_reads_the_same_facts(sql, rollback):
    review = analyze_plan([{"sql": sql, "rollback_sql": rollback}]).statements[0]
    executor = MigrationOperation("X", "t", sql, rollback_sql=rollback).facts()
    [rehearsal] = static_facts([MigrationOperation("X", "t", sql)], "public")
    [parsed] = parse_script(sql)
    for other in (executor, rehearsal, parsed):
        assert (other.kind, other.transactional, other.destroys_data) == \
            (review.kind, review.transactional, review.destroys_data)
    plan = build_rollback_plan(None, [MigrationOperation("X", "t", sql, rollback_sql=rollback)], [executor],
                               preserve_data=False)
    # the planner calls a statement reversible exactly when the model does and a rollback exists
    assert plan.fully_reversible == (review.reversible and bool(rollback))


def test_the_three_former_disagreements_have_one_answer():
    reindex, drop_schema, narrowing = (parse_script(s)[0] for s in
                                       ("REINDEX SCHEMA s", "DROP SCHEMA s CASCADE", "ALTER TABLE t ALTER COLUMN c TYPE int"))
    assert reindex.transactional is False              # PostgreSQL refuses it inside BEGIN
    assert drop_schema.destroys_data is True           # CREATE SCHEMA does not bring the tables back
    assert narrowing.destroys_data is True             # bigint -> int can lose values
    plan = build_rollback_plan(None, [MigrationOperation("X", "s", "DROP SCHEMA s CASCADE", rollback_sql="CREATE SCHEMA s")],
                               [MigrationOperation("X", "s", "DROP SCHEMA s CASCADE").facts()], preserve_data=False)
    assert plan.fully_reversible is False


def test_a_statement_after_a_non_ascii_comment_is_split_at_the_right_place():
    script = "-- café, naïve, 日本語\nCREATE TABLE a (id int);\n/* ünïcödé */ ALTER TABLE a ADD COLUMN b text;"
    first, second = parse_script(script)
    assert first.sql == "CREATE TABLE a (id int)" and first.line == 2
    assert second.sql == "ALTER TABLE a ADD COLUMN b text" and second.line == 3


def test_a_do_block_is_scored_like_the_statement_it_executes():
    plain = analyze_plan("DROP TABLE orders").risk
    hidden = analyze_plan("DO $$ BEGIN EXECUTE 'DROP TABLE orders'; END $$").risk
    assert hidden.risk_level == plain.risk_level and hidden.overall_score >= plain.overall_score
    [stmt] = parse_script("DO $$ BEGIN EXECUTE 'DROP TABLE orders'; END $$")
    assert stmt.destroys_data and stmt.lock_mode == "ACCESS EXCLUSIVE"


def test_a_rollback_that_drops_an_unrelated_table_makes_a_low_plan_high():
    report = analyze_plan([{"sql": "CREATE INDEX i ON t (a)", "rollback_sql": "DROP TABLE unrelated"}])
    assert report.risk.risk_level.value == "HIGH"
    finding = next(f for f in report.findings if f.rule == "rollback-touches-other-objects")
    assert "unrelated" in finding.message
    assert report.rollback_review.risk.risk_level.value == "HIGH"
    assert report.to_dict()["rollback_review"]["statements"][0]["sql"] == "DROP TABLE unrelated"


def test_a_refused_rollback_refuses_the_plan():
    report = analyze_plan([{"sql": "ALTER TABLE t ADD COLUMN n text", "rollback_sql": "ALTER SYSTEM SET fsync = off"}])
    assert report.refused and "ALTER SYSTEM" in report.refused[0]


def test_error_findings_raise_the_plan_to_medium_and_say_so():
    report = analyze_plan("DROP DATABASE x").to_dict()  # refused as well: CRITICAL
    assert report["risk"]["risk_level"] == "CRITICAL"
    report = analyze_plan("ALTER TABLE t ADD COLUMN c int NOT NULL").to_dict()
    finding = next(f for s in report["statements"] for f in s["findings"] if f["rule"] == "adding-required-field")
    assert finding["severity"] == "error" and finding["risk_effect"] == "raises the plan to at least MEDIUM"
    assert report["risk"]["risk_level"] in ("MEDIUM", "HIGH", "CRITICAL")
    warning = next(f for s in report["statements"] for f in s["findings"] if f["severity"] != "error")
    assert warning["risk_effect"].startswith("no floor")
