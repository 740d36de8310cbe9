"""Lint rules, one module a rule, each with a stable kebab-case id, a problem/solution text and
the safe alternative SQL. ``lint(statements, ctx)`` runs every rule on every statement.

Static rules read only the SQL; rules with ``needs_catalog`` read the live facts in the
``LintContext`` (table sizes, foreign keys, function bodies, lock activity, dependency reports)
and are skipped, visibly, when the analysis is static.
"""

from __future__ import annotations

from importlib import import_module

from migrations_app.engines.lint.base import Finding, LintContext, Rule

RULE_MODULES = (
    "adding_field_with_default", "adding_foreign_key_constraint", "constraint_missing_not_valid",
    "adding_not_nullable_field", "adding_required_field", "disallowed_unique_constraint",
    "adding_primary_key_constraint", "require_concurrent_index_creation", "require_concurrent_index_deletion",
    "ban_concurrent_index_creation_in_transaction", "ban_drop_column", "ban_drop_table", "ban_drop_database",
    "ban_drop_not_null", "ban_truncate_cascade", "changing_column_type", "renaming_column", "renaming_table",
    "ban_char_field", "prefer_text_field", "prefer_bigint_over_int", "prefer_identity", "prefer_timestamptz",
    "identifier_too_long", "require_timeout_settings", "enum_value_ordering", "transaction_nesting",
    "ban_alter_domain_with_add_constraint", "prefer_robust_stmts",
    "require_concurrent_reindex", "require_concurrent_partition_detach", "ban_duplicate_column_assignments",
    "require_table_schema", "prefer_repack", "require_enum_value_ordering", "dropping_foreign_key",
    "adding_unique_index", "primary_key_implicit_not_null", "column_alignment_padding", "naming",
    # rules that need the live database
    "large_table_rewrite", "foreign_key_without_index", "column_has_dependents",
    "renamed_table_referenced_by_functions", "lock_queue_hazard", "data_loss_without_backup", "name_already_exists",
    # the statement policy's findings (several rules in one module)
    "statement_policy", "rollback_sql",
    # findings about dataflow:ignore comments, raised by the review policy
    "ignore_rules",
)


def _rules_of(module) -> list[Rule]:
    return list(getattr(module, "RULES", None) or [module.RULE])


RULES: list[Rule] = [rule for name in RULE_MODULES for rule in _rules_of(import_module(f"{__name__}.{name}"))]
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}

SEVERITY_RANK = {"error": 3, "warning": 2, "info": 1}


def lint(statements, ctx: LintContext, *, disabled: frozenset[str] = frozenset()) -> list[Finding]:
    findings: list[Finding] = []
    # Catalog rules are dropped up front when static, so the inner loop only calls live checks; each
    # statement kind gets the checks that can fire on it (``Rule.kinds``), in the order of RULES.
    rules = [r for r in RULES if r.id not in disabled and (ctx.facts is not None or not r.needs_catalog)
             and r.checker is not None]
    by_kind: dict[str, list] = {}
    extend = findings.extend
    for stmt in statements:
        checks = by_kind.get(stmt.kind)
        if checks is None:
            checks = by_kind[stmt.kind] = [r.checker for r in rules if r.kinds is None or stmt.kind in r.kinds]
        for check in checks:
            found = check(stmt, ctx)
            if found is not None:
                extend(found)
    return findings


__all__ = ["Finding", "LintContext", "Rule", "RULES", "RULES_BY_ID", "lint", "SEVERITY_RANK"]
