"""Rollback: SQL suggested for a statement from the live catalog (``suggest``, ``definitions``,
``catalog``), the review of rollback SQL (``review``), and the executor's rollback plan with its
backups and checks (``plans``, ``structure``, ``verification``)."""

from migrations_app.engines.rollback.catalog import definition_requests
from migrations_app.engines.rollback.plans import (BACKUP_SCHEMA, DATA_CHANGING_KINDS, DEFAULT_BACKUP_MAX_BYTES,
                                                   RollbackPlan, backup_schema_sql, build_rollback_plan)
from migrations_app.engines.rollback.review import RollbackReview, combine_with_forward, lint_inner, review_rollbacks
from migrations_app.engines.rollback.structure import RollbackStep
from migrations_app.engines.rollback.suggest import RollbackSuggestion, suggest_rollback
from migrations_app.engines.rollback.verification import DATA_OK, data_verification, steps_with_data_checks

__all__ = ["BACKUP_SCHEMA", "DATA_CHANGING_KINDS", "DATA_OK", "DEFAULT_BACKUP_MAX_BYTES", "RollbackPlan",
           "RollbackReview", "RollbackStep", "RollbackSuggestion", "backup_schema_sql", "build_rollback_plan",
           "combine_with_forward", "data_verification", "definition_requests", "lint_inner", "review_rollbacks",
           "steps_with_data_checks", "suggest_rollback"]
