"""Every static lint rule: SQL that must fire it and SQL that must not."""

import pytest

from migrations_app.engines.lint import RULES, RULES_BY_ID, LintContext, lint
from migrations_app.engines.lint.examples import EXAMPLES
from migrations_app.engines.statements import parse_script

CASES = EXAMPLES  # fire, quiet


def rule_ids(sql, **ctx_options):
    statements = parse_script(sql)
    return {f.rule for f in lint(statements, LintContext(statements, **ctx_options))}


@pytest.mark.parametrize("rule, sql", [(r, s) for r, (fire, _) in CASES.items() for s in fire])
def test_rule_fires(rule, sql):
    assert rule in rule_ids(sql)


@pytest.mark.parametrize("rule, sql", [(r, s) for r, (_, quiet) in CASES.items() for s in quiet])
def test_rule_stays_quiet(rule, sql):
    assert rule not in rule_ids(sql)


def test_every_static_rule_has_cases_and_every_rule_has_docs():
    # rules without a checker are raised by the rollback review (tests/engines_risk/test_one_statement_model.py)
    static = {r.id for r in RULES if not r.needs_catalog and r.checker is not None}
    assert static <= set(CASES)
    for rule in RULES:
        assert rule.id == rule.id.lower() and " " not in rule.id and "_" not in rule.id
        assert rule.problem and rule.solution and rule.severity in ("error", "warning", "info")


def test_findings_carry_problem_solution_and_runnable_safe_sql():
    statements = parse_script("ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
                              "REFERENCES customers (id)")
    [finding] = [f for f in lint(statements, LintContext(statements)) if f.rule == "adding-foreign-key-constraint"]
    assert finding.problem == RULES_BY_ID["adding-foreign-key-constraint"].problem
    assert "NOT VALID" in finding.safe_sql and "VALIDATE CONSTRAINT orders_customer_fk;" in finding.safe_sql
    assert parse_script(finding.safe_sql)  # the suggestion itself parses


def test_rules_ignore_tables_created_earlier_in_the_same_plan():
    sql = "CREATE TABLE n (id bigint, a int); CREATE INDEX ON n (a); ALTER TABLE n ALTER COLUMN a SET NOT NULL"
    ids = rule_ids(sql)
    assert "require-concurrent-index-creation" not in ids and "adding-not-nullable-field" not in ids


def test_executor_set_timeouts_silence_the_timeout_rule():
    assert "require-timeout-settings" not in rule_ids("ALTER TABLE t ADD COLUMN a text", assume_session_timeouts=True)


def test_data_loss_rule_is_quiet_when_a_backup_is_recorded():
    assert "data-loss-without-backup" not in rule_ids("DROP TABLE t", has_backup=True)


def test_database_rules_are_skipped_without_a_database():
    ids = rule_ids("ALTER TABLE t ALTER COLUMN a TYPE bigint; ALTER TABLE t RENAME TO u")
    assert not ids & {r.id for r in RULES if r.needs_catalog}
