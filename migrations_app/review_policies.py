"""The review policy in force: the newest saved version (or the built-in default), per environment.

The analysis takes the target's policy (``policy_for_target``), and the gate asks two things of it:
was the analysis made under the policy in force now, and does any finding block."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from migrations_app import permissions
from migrations_app.engines.lint.review_policy import (ENVIRONMENTS, PolicyError, ReviewPolicy, load_policy_text,
                                                       policy_for)
from migrations_app.policy_models import ReviewPolicyVersion
from targets.models import AuditEvent

STARTER_TEXT = """# DataFlow review policy (TOML; the same format as `lint_migration --policy FILE`, see docs/rules.md)
# Rule ids may be ours, Squawk's or Atlas's (CD101, MF101, ...).
allow_ignores = true
excluded_rules = []

# [rules.ban-drop-column]
# state = "error"      # off | info | warning | error
# blocks = true        # an error blocks the sign-off gate
# ignorable = false    # "-- dataflow:ignore ban-drop-column <reason>" is refused

# [environments.production.rules.ban-drop-table]
# state = "error"
# blocks = true
"""


def current_version() -> ReviewPolicyVersion | None:
    return ReviewPolicyVersion.objects.select_related("author").order_by("-id").first()


def policy_for_environment(environment: str, version: ReviewPolicyVersion | None = None) -> ReviewPolicy:
    version = version or current_version()
    if version is None:
        return ReviewPolicy(environment)
    return policy_for(version.document, environment, source=version.label)


def policy_for_target(target) -> ReviewPolicy:
    return policy_for_environment(target.environment)


def policies_by_environment(version=None) -> dict[str, ReviewPolicy]:
    return {env: policy_for_environment(env, version) for env in ENVIRONMENTS}


def save_policy(user, text: str, comment: str = "") -> ReviewPolicyVersion:
    """A new version in force from now (audited). Raises ``PolicyError`` naming every problem."""
    permissions.require(permissions.can_edit_review_policy(user), refused=PermissionDenied)
    document = load_policy_text(text)
    with transaction.atomic():
        previous = current_version()
        version = ReviewPolicyVersion.objects.create(text=text, document=document, comment=comment[:500], author=user)
        AuditEvent.record(user, "review_policy.changed", version, data={
            "version": version.pk, "previous": previous.pk if previous else None, "comment": comment[:500],
            "digests": {env: p.digest() for env, p in policies_by_environment(version).items()}})
    return version


def policy_requirements(plan, report: dict) -> list[tuple[str, str, bool, str]]:
    """(key, label, met, detail) the gate adds for the review policy: nothing while the analysis ran
    under the policy in force and that policy blocks on nothing."""
    in_force = policy_for_target(plan.target)
    used = (report or {}).get("policy") or {}
    used_digest = used.get("digest") or ReviewPolicy(plan.target.environment).digest()  # older analyses: default
    current = used_digest == in_force.digest()
    requirements = []
    if not current:
        requirements.append(("policy_current", "Analysed under the review policy in force", False,
                             f"the {plan.target.environment} policy changed since the analysis "
                             f"(now {in_force.source}); analyse again"))
    blocking = used.get("blocking") or []
    # listed when something can block here, so a met requirement says the check was made
    if blocking or any(s.blocks for s in in_force.overrides.values()):
        requirements.append(("policy_blocking", "No finding the review policy blocks on", not blocking,
                             "; ".join(f"{b['rule']} (statement {b['statement']}, line {b['line']})"
                                       for b in blocking)))
    return requirements


__all__ = ["PolicyError", "STARTER_TEXT", "current_version", "policies_by_environment", "policy_for_environment",
           "policy_for_target", "policy_requirements", "save_policy"]
