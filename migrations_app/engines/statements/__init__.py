"""The statement model: SQL text -> statements with their facts and the statement policy's verdicts.

One model serves the review (lint, risk, rollback suggestions), the rollback planner, the
rehearsal and the executor, so they cannot disagree about a statement:

- ``parse_script(text)`` / ``split_script`` + ``describe``: ``StatementInfo`` per statement —
  kind, touched objects, lock mode (strictest subcommand), rewrite, scan, transactional,
  destroys data, reversible, and the policy's verdicts (``policy``) with the statements a DO
  block runs;
- ``destroyed_data(info)``: what a statement destroys, precisely enough to preserve it first;
- ``input``: bad bytes (NUL, invalid UTF-8, over-size) refused with their position;
- ``operations``: ``MigrationOperation``, one stored statement with the facts the executor needs.
"""

from migrations_app.engines.statements.destroyed import (DestroyedData, constraints_added, destroyed_data,
                                                         lossless_type_change)
from migrations_app.engines.statements.input import (DEFAULT_MAX_SCRIPT_BYTES, ScriptInputError, check_script,
                                                     decode_script)
from migrations_app.engines.statements.model import (STATIC_SERVER_VERSION, AnalysisEnv, RawStatement, SqlSyntaxError,
                                                     StatementInfo, TouchedObject)
from migrations_app.engines.statements.operations import (MigrationOperation, StatementFacts, StatementParseError,
                                                          analyze_statement, check_sql_policy, operations_from_script,
                                                          statement_info)
from migrations_app.engines.statements.parse import default_function_names, describe, parse_script, split_script
from migrations_app.engines.statements.policy import PolicyVerdict, StatementRefused

__all__ = ["AnalysisEnv", "DEFAULT_MAX_SCRIPT_BYTES", "DestroyedData", "MigrationOperation", "PolicyVerdict",
           "RawStatement", "STATIC_SERVER_VERSION", "ScriptInputError", "SqlSyntaxError", "StatementFacts",
           "StatementInfo", "StatementParseError", "StatementRefused", "TouchedObject", "analyze_statement",
           "check_script", "check_sql_policy", "constraints_added", "decode_script", "default_function_names",
           "describe", "destroyed_data", "lossless_type_change", "operations_from_script", "parse_script",
           "split_script", "statement_info"]
