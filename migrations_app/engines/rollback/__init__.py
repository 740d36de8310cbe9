"""Rollback: SQL suggested for a statement from the live catalog (``suggest``, ``definitions``,
``catalog``), the review of rollback SQL (``review``), and the executor's rollback plan with its
backups and checks (``plans``, ``structure``, ``verification``).

The executor's names are imported on first use (PEP 562): they compose SQL with ``psycopg.sql``,
and the plan analysis (``lint_cli`` without a database) needs none of them nor psycopg."""

from migrations_app.engines.rollback.catalog import definition_requests
from migrations_app.engines.rollback.review import RollbackReview, combine_with_forward, lint_inner, review_rollbacks
from migrations_app.engines.rollback.suggest import RollbackSuggestion, suggest_rollback

_EXECUTOR_NAMES = {"BACKUP_SCHEMA": "plans", "DATA_CHANGING_KINDS": "plans", "DEFAULT_BACKUP_MAX_BYTES": "plans",
                   "RollbackPlan": "plans", "backup_schema_sql": "plans", "build_rollback_plan": "plans",
                   "RollbackStep": "structure", "DATA_OK": "verification", "data_verification": "verification",
                   "steps_with_data_checks": "verification"}


def __getattr__(name: str):
    module = _EXECUTOR_NAMES.get(name)
    if module == "plans":
        from migrations_app.engines.rollback import plans as found
    elif module == "structure":
        from migrations_app.engines.rollback import structure as found
    elif module == "verification":
        from migrations_app.engines.rollback import verification as found
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(found, name)
    globals()[name] = value
    return value

__all__ = ["BACKUP_SCHEMA", "DATA_CHANGING_KINDS", "DATA_OK", "DEFAULT_BACKUP_MAX_BYTES", "RollbackPlan",
           "RollbackReview", "RollbackStep", "RollbackSuggestion", "backup_schema_sql", "build_rollback_plan",
           "combine_with_forward", "data_verification", "definition_requests", "lint_inner", "review_rollbacks",
           "steps_with_data_checks", "suggest_rollback"]
