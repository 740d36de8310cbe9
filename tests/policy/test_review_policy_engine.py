"""The review policy on the analysis: rule states, blocking errors, aliases, inline ignores."""

import pytest

from migrations_app.engines.lint import RULES_BY_ID
from migrations_app.engines.lint.review_policy import (ALIASES, ATLAS_ALIASES, PROTECTED, SQUAWK_ALIASES, PolicyError,
                                                       load_policy_text, policy_for)
from migrations_app.engines.plan_analysis import analyze_plan

DROP = "ALTER TABLE orders DROP COLUMN note"


def analyse(sql, policy_text="", environment="production"):
    policy = policy_for(load_policy_text(policy_text), environment, "test") if policy_text else None
    return analyze_plan(sql, review_policy=policy)


def rules(report):
    return {f.rule for f in report.findings}


def finding(report, rule):
    [found] = [f for f in report.findings if f.rule == rule]
    return found


def test_the_default_policy_keeps_each_rules_own_severity_and_leaves_opt_in_rules_off():
    report = analyse("CREATE TABLE \"Orders\" (id int); ALTER TYPE mood ADD VALUE 'x'")
    assert finding(report, "prefer-bigint-over-int").severity == "info"
    assert "naming-table" not in rules(report) and "require-enum-value-ordering" not in rules(report)
    assert report.policy["source"] == "built-in default policy" and report.policy["switched_off"] == {}


@pytest.mark.parametrize("state", ["info", "warning", "error"])
def test_a_policy_state_sets_the_findings_severity_and_says_it_differs_from_the_default(state):
    report = analyse(DROP, f'[rules.ban-drop-column]\nstate = "{state}"')
    found = finding(report, "ban-drop-column")
    assert found.severity == state
    if state != "warning":  # the rule's default
        assert found.evidence["policy"] == {"state": state, "default": "warning"}


def test_a_rule_switched_off_is_not_reported_but_counted_in_the_report():
    report = analyse(DROP, 'excluded_rules = ["ban-drop-column"]')
    assert "ban-drop-column" not in rules(report)
    assert report.policy["switched_off"] == {"ban-drop-column": 1}


def test_an_error_raises_the_plan_to_medium_and_a_warning_does_not():
    as_error = analyse(DROP, '[rules.ban-drop-column]\nstate = "error"')
    assert any(f["rule"] == "ban-drop-column" and f["level"] == "MEDIUM" for f in as_error.risk.floors)
    as_info = analyse(DROP, '[rules.ban-drop-column]\nstate = "info"')
    assert not any(f["rule"] == "ban-drop-column" for f in as_info.risk.floors)


def test_a_blocking_error_is_listed_as_blocking_the_gate():
    report = analyse(DROP, '[rules.ban-drop-column]\nstate = "error"\nblocks = true')
    assert finding(report, "ban-drop-column").evidence["blocks_gate"] is True
    assert [b["rule"] for b in report.policy["blocking"]] == ["ban-drop-column"]


def test_only_an_error_can_block():
    with pytest.raises(PolicyError, match="only an error can block"):
        load_policy_text('[rules.ban-drop-column]\nstate = "warning"\nblocks = true')


def test_an_environment_section_overrides_the_top_level_for_that_environment_only():
    text = '[rules.ban-drop-column]\nstate = "info"\n[environments.production.rules.ban-drop-column]\nstate = "error"'
    assert finding(analyse(DROP, text, "production"), "ban-drop-column").severity == "error"
    assert finding(analyse(DROP, text, "development"), "ban-drop-column").severity == "info"


def test_the_policy_file_may_be_json_in_the_same_shape():
    report = analyse(DROP, '{"rules": {"ban-drop-column": {"state": "error", "blocks": true}}}')
    assert finding(report, "ban-drop-column").evidence["blocks_gate"] is True


def test_unknown_rules_states_and_keys_are_refused_with_every_problem_named():
    with pytest.raises(PolicyError) as refused:
        load_policy_text('excluded_rules = ["no-such-rule"]\n[rules.ban-drop-column]\nstate = "loud"\ncolour = 1')
    assert len(refused.value.problems) == 3


@pytest.mark.parametrize("rule", sorted(PROTECTED))
def test_the_statement_policys_verdicts_cannot_be_switched_off_by_a_policy(rule):
    with pytest.raises(PolicyError, match="cannot be configured"):
        load_policy_text(f'excluded_rules = ["{rule}"]')


@pytest.mark.parametrize("alias, ours", sorted(ALIASES.items()))
def test_every_squawk_and_atlas_alias_names_one_of_our_rules_and_switches_it(alias, ours):
    assert ours in RULES_BY_ID
    policy = policy_for(load_policy_text(f'[rules.{alias}]\nstate = "error"'), "staging")
    assert policy.setting(ours).state == "error"


def test_a_squawk_exclusion_list_carries_over():
    report = analyse("CREATE TABLE t (at timestamp)", 'excluded_rules = ["prefer-timestamp-tz"]')
    assert "prefer-timestamptz" not in rules(report)
    assert set(SQUAWK_ALIASES) and set(ATLAS_ALIASES) >= {"CD101", "MF101", "MF102", "PG110", "PG304", "NM106"}


def test_a_naming_rule_switched_on_uses_its_pattern_option():
    text = '[rules.NM102]\nstate = "warning"\npattern = "^tbl_[a-z_]+$"'
    assert "naming-table" in rules(analyse("CREATE TABLE orders (id bigint)", text))
    assert "naming-table" not in rules(analyse("CREATE TABLE tbl_orders (id bigint)", text))


# -- inline ignores ------------------------------------------------------------------------

IGNORED = "-- dataflow:ignore ban-drop-column the column is unused since release 4.2\n" + DROP


def test_an_ignore_with_a_reason_suppresses_that_finding_and_is_counted_with_its_reason():
    report = analyse(IGNORED)
    assert "ban-drop-column" not in rules(report)
    [ignored] = report.policy["ignored"]
    assert ignored["rule"] == "ban-drop-column" and ignored["reason"] == "the column is unused since release 4.2"
    assert report.policy["ignored_count"] == 1


def test_an_ignore_applies_to_its_statement_only():
    report = analyse(IGNORED + ";\nALTER TABLE items DROP COLUMN note")
    assert [f.statement_index for f in report.findings if f.rule == "ban-drop-column"] == [1]


def test_an_ignore_on_the_statements_own_line_applies_to_it():
    report = analyse(DROP + "; -- dataflow:ignore ban-drop-column moved to the archive table\nSELECT 1")
    assert "ban-drop-column" not in rules(report) and report.policy["ignored_count"] == 1


def test_an_ignore_by_squawk_alias_works():
    report = analyse("-- dataflow:ignore prefer-timestamp-tz local wall-clock on purpose\nCREATE TABLE t (at timestamp)")
    assert "prefer-timestamptz" not in rules(report)


def test_an_ignore_without_a_reason_suppresses_nothing_and_is_reported():
    report = analyse("-- dataflow:ignore ban-drop-column\n" + DROP)
    assert "ban-drop-column" in rules(report)
    assert "no reason" in finding(report, "invalid-ignore").message
    assert report.policy["ignored_count"] == 0


def test_a_policy_can_forbid_ignoring_a_rule():
    report = analyse(IGNORED, '[rules.ban-drop-column]\nignorable = false')
    assert "ban-drop-column" in rules(report)
    assert "does not let ban-drop-column be ignored" in finding(report, "invalid-ignore").message


def test_a_policy_can_forbid_every_ignore_in_an_environment():
    text = "[environments.production]\nallow_ignores = false"
    assert "ban-drop-column" in rules(analyse(IGNORED, text, "production"))
    assert "ban-drop-column" not in rules(analyse(IGNORED, text, "staging"))


def test_a_statement_policy_verdict_cannot_be_ignored():
    report = analyse("-- dataflow:ignore create-extension we need it\nCREATE EXTENSION pg_trgm")
    assert "create-extension" in rules(report)
    assert "statement policy" in finding(report, "invalid-ignore").message


def test_an_ignore_that_matches_nothing_is_reported_as_unused():
    report = analyse("-- dataflow:ignore ban-drop-table not dropping anything\n" + DROP)
    assert finding(report, "unused-ignore").line == 2


def test_a_directive_inside_a_string_is_not_an_ignore():
    report = analyse("SELECT '-- dataflow:ignore ban-drop-column nope';\n" + DROP)
    assert "ban-drop-column" in rules(report) and report.policy["ignored_count"] == 0


def test_ignores_in_stored_operations_apply_to_their_own_statement():
    operations = [{"sql": "-- dataflow:ignore ban-drop-column unused since 4.2\n" + DROP},
                  {"sql": "ALTER TABLE items DROP COLUMN note"}]
    report = analyze_plan(operations)
    assert [f.statement_index for f in report.findings if f.rule == "ban-drop-column"] == [1]
    assert report.policy["ignored"][0]["statement"] == 1


def test_a_rule_lowered_by_the_policy_loses_its_own_floor_and_the_finding_says_so():
    from migrations_app.engines.lint.base import Finding
    from migrations_app.engines.risk.floors import floor_of, risk_effect

    lowered = Finding("renamed-table-referenced-by-functions", "warning", "m", "p", "s", None, 0, 1,
                      {"policy": {"state": "warning", "default": "error"}})
    assert floor_of(lowered) is None
    assert "review policy makes this rule warning (default error)" in risk_effect(lowered)
    kept = Finding("renamed-table-referenced-by-functions", "error", "m", "p", "s", None, 0, 1, {"blocks_gate": True})
    assert floor_of(kept) == "HIGH" and "blocks the sign-off gate" in risk_effect(kept)
