"""The review policy page (DBAs edit, history and audit), the rule pages, the gate and the CLI."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from migrations_app.gate import evaluate_gate
from migrations_app.models import RiskLevel
from migrations_app.policy_models import ReviewPolicyVersion
from migrations_app.review_policies import policy_for_target, save_policy
from targets.models import AuditEvent
from tests.factories import ADD_NICKNAME, AnalysedFactory, MigrationPlanFactory, TargetDatabaseFactory, risk_report

BLOCK_DROPS = '[environments.production.rules.ban-drop-column]\nstate = "error"\nblocks = true\n'
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def prod(db):
    return TargetDatabaseFactory(name="shop-prod", environment="production")


def test_a_dba_saves_a_policy_as_a_new_audited_version(client, dba):
    client.force_login(dba)
    response = client.post(reverse("review_policy"), {"text": BLOCK_DROPS, "comment": "drops need a ticket"})
    assert response.status_code == 302
    version = ReviewPolicyVersion.objects.get()
    assert version.author == dba and version.document["environments"]["production"]["rules"]["ban-drop-column"]
    event = AuditEvent.objects.get(verb="review_policy.changed")
    assert event.data["version"] == version.pk and event.data["comment"] == "drops need a ticket"


def test_every_save_keeps_the_earlier_versions(client, dba):
    client.force_login(dba)
    client.post(reverse("review_policy"), {"text": BLOCK_DROPS})
    client.post(reverse("review_policy"), {"text": "allow_ignores = false\n"})
    first, second = ReviewPolicyVersion.objects.order_by("id")
    page = client.get(reverse("review_policy")).content.decode()
    assert f"v{first.pk}<" in page and f"In force: v{second.pk} by dba_alice" in page


def test_an_invalid_policy_is_refused_with_every_problem_and_nothing_is_saved(client, dba):
    client.force_login(dba)
    response = client.post(reverse("review_policy"), {"text": 'excluded_rules = ["nope", "statement-refused"]'})
    assert response.status_code == 400
    body = response.content.decode()
    assert "unknown rule" in body and "cannot be configured" in body
    assert not ReviewPolicyVersion.objects.exists()


@pytest.mark.parametrize("persona", ["manager", "engineer"])
def test_only_a_dba_changes_the_policy_others_read_it(client, persona, request):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    assert client.get(reverse("review_policy")).status_code == 200
    assert client.post(reverse("review_policy"), {"text": BLOCK_DROPS}).status_code == 403
    assert not ReviewPolicyVersion.objects.exists()


def test_an_outsider_sees_no_policy_and_anonymous_goes_to_login(client, outsider):
    assert client.get(reverse("review_policy")).status_code == 302
    client.force_login(outsider)
    assert client.get(reverse("review_policy")).status_code == 403


def test_the_saved_policy_applies_to_the_targets_environment_only(dba, prod):
    save_policy(dba, BLOCK_DROPS)
    assert policy_for_target(prod).setting("ban-drop-column").blocks
    dev = TargetDatabaseFactory(name="shop-dev", environment="development")
    assert policy_for_target(dev).setting("ban-drop-column").state == "warning"


def test_the_download_is_the_text_lint_migration_takes(client, dba, engineer):
    save_policy(dba, BLOCK_DROPS)
    client.force_login(engineer)
    response = client.get(reverse("review_policy_download"))
    assert response.content.decode() == BLOCK_DROPS and "attachment" in response["Content-Disposition"]


def test_every_rule_has_a_page_with_problem_safe_way_and_examples(client, engineer):
    from migrations_app.engines.lint import RULES

    client.force_login(engineer)
    for rule in RULES:
        page = client.get(reverse("rule_detail", args=[rule.id]))
        assert page.status_code == 200, rule.id
        assert rule.problem.split(":")[0][:40] in page.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def test_a_squawk_or_atlas_name_leads_to_our_rule_page(client, engineer):
    client.force_login(engineer)
    assert client.get(reverse("rule_detail", args=["prefer-timestamp-tz"])).url == reverse("rule_detail", args=["prefer-timestamptz"])
    assert client.get(reverse("rule_detail", args=["CD101"])).url == reverse("rule_detail", args=["dropping-foreign-key"])
    assert client.get(reverse("rule_detail", args=["no-such-rule"])).status_code == 404


def _analysed_plan(author, target, policy_summary):
    plan = MigrationPlanFactory(author=author, target=target, operations=[ADD_NICKNAME])
    AnalysedFactory(plan=plan, level=RiskLevel.LOW, report={**risk_report(RiskLevel.LOW), "policy": policy_summary})
    return plan


def test_a_finding_the_policy_blocks_on_fails_the_gate(dba, prod):
    policy = policy_for_target(prod)
    blocking = [{"rule": "ban-drop-column", "statement": 1, "line": 1, "message": "m"}]
    plan = _analysed_plan(dba, prod, {**policy.summary(), "blocking": blocking})
    gate = evaluate_gate(plan)
    [blocked] = [r for r in gate.requirements if r.key == "policy_blocking"]
    assert not blocked.met and "ban-drop-column" in blocked.detail and not gate.satisfied


def test_an_analysis_under_an_earlier_policy_no_longer_counts(dba, prod):
    plan = _analysed_plan(dba, prod, {**policy_for_target(prod).summary(), "blocking": []})
    assert evaluate_gate(plan).satisfied
    save_policy(dba, BLOCK_DROPS)
    [current] = [r for r in evaluate_gate(plan).requirements if r.key == "policy_current"]
    assert not current.met and "analyse again" in current.detail


def _cli(*args, sql="ALTER TABLE orders DROP COLUMN note;\n", tmp_path=None):
    script = tmp_path / "m.sql"
    script.write_text(sql)
    return subprocess.run([sys.executable, "-m", "migrations_app.lint_cli", str(script), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_the_cli_takes_a_policy_file_and_fails_on_a_blocking_error(tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text(BLOCK_DROPS)
    blocked = _cli("--policy", str(policy), "--environment", "production", tmp_path=tmp_path)
    assert blocked.returncode == 1 and "ban-drop-column blocks the gate" in blocked.stderr
    assert "ERROR   ban-drop-column" in blocked.stdout
    allowed = _cli("--policy", str(policy), "--environment", "staging", tmp_path=tmp_path)
    assert allowed.returncode == 0 and "WARNING ban-drop-column" in allowed.stdout


def test_the_cli_reports_ignored_findings_with_their_reason(tmp_path):
    result = _cli(tmp_path=tmp_path, sql="-- dataflow:ignore ban-drop-column unused since 4.2\n"
                                         "ALTER TABLE orders DROP COLUMN note;\n")
    assert "1 finding(s) ignored" in result.stdout and "unused since 4.2" in result.stdout


def test_the_cli_refuses_an_invalid_policy_file(tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text('[rules.ban-drop-column]\nstate = "loud"\n')
    result = _cli("--policy", str(policy), tmp_path=tmp_path)
    assert result.returncode == 2 and "state must be one of" in result.stderr


def test_docs_rules_md_lists_every_rule_and_every_alias():
    from migrations_app.engines.lint import RULES
    from migrations_app.engines.lint.review_policy import ALIASES

    text = (ROOT / "docs" / "rules.md").read_text()
    assert all(f"`{rule.id}`" in text for rule in RULES)
    assert all(alias in text for alias in ALIASES)
