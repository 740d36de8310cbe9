"""Turning pasted SQL into plan operations: split and classify with the statement engine,
suggest rollback SQL (from the live catalog when the target answers, statically otherwise);
and stored operations back into the engines' ``MigrationOperation``."""

from __future__ import annotations

import logging

from django.conf import settings

from migrations_app.engines.statements import (MigrationOperation, ScriptInputError, SqlSyntaxError, StatementInfo,
                                               check_script, parse_script)
from migrations_app.engines.rollback import suggest_rollback

log = logging.getLogger(__name__)


AUTHOR_ROLLBACK_NOTE = "written by the author"


class ScriptError(Exception):
    """SQL the tool cannot take: unreadable input (NUL, invalid UTF-8, over-size, syntax), an
    empty script, or, as :class:`PolicyRefusal`, statements the statement policy refuses."""


class PolicyRefusal(ScriptError):
    """The script reads, and the statement policy refuses some of it. Callers that answer the two
    differently (CI exits 3 for a refusal and 2 for bad input, the API says ``kind: policy``) tell
    them apart by this class, never by the message's wording."""


def _parse_checked(script: str, what: str = "") -> list[StatementInfo]:
    """Statements of ``script`` after the input checks (NUL, UTF-8, size) and the statement
    policy; ``ScriptError`` names the line, the position and the reason."""
    prefix = f"{what}: " if what else ""
    try:
        check_script(script, settings.DATAFLOW_MAX_SCRIPT_BYTES)
        statements = parse_script(script)
    except ScriptInputError as exc:
        raise ScriptError(f"{prefix}line {exc.line}, position {exc.position}: {exc.message}") from None
    except SqlSyntaxError as exc:
        raise ScriptError(f"{prefix}Syntax error at line {exc.line}, position {exc.position}: {exc.message}") from None
    refused = [f"line {s.line}: {v.text()}" for s in statements for v in s.refusals]
    if refused:
        raise PolicyRefusal(f"{prefix}refused by the statement policy — " + "; ".join(refused))
    return statements


def check_operation_policy(sql_text: str, rollback_sql: str, schema: str) -> None:
    """The policy for one stored operation (forward and rollback SQL): ``ScriptError`` if refused."""
    _parse_checked(sql_text)
    if rollback_sql and rollback_sql.strip():
        _parse_checked(rollback_sql, "Rollback SQL")


def _catalog_for(target):
    """An open read-only connection to the target for exact rollback SQL, or None if it is down."""
    if target is None:
        return None
    try:
        return target.connection().connect(read_only=True, statement_timeout_ms=10_000)
    except Exception as exc:  # authoring must work while the target is unreachable
        log.info("rollback suggestions for %s are static: %s", target.name, exc)
        return None


def script_to_operations(script: str, schema: str, target=None) -> list[dict]:
    statements = _parse_checked(script)
    if not statements:
        raise ScriptError("The script has no statements.")
    catalog = _catalog_for(target)
    try:
        operations = []
        for statement in statements:
            suggestion = suggest_rollback(statement, catalog, schema=schema)
            operations.append({
                "type": statement.kind,
                "schema_name": statement.schema or schema,
                "table": statement.table or "",
                "column": statement.column or "",
                "sql": statement.sql,
                "rollback_sql": suggestion.sql or "",
                "rollback_note": (suggestion.reason or "")[:500],
                "line": statement.line,
            })
        return operations
    finally:
        if catalog is not None:
            catalog.close()


def single_operation(sql_text: str, rollback_sql: str, schema: str, target=None) -> dict:
    operations = script_to_operations(sql_text, schema, target)
    if len(operations) != 1:
        raise ScriptError(f"An operation is one statement; this text has {len(operations)}. "
                          "Use \"Replace SQL\" to paste a whole script.")
    operation = operations[0]
    operation["line"] = None
    if rollback_sql.strip():
        _parse_checked(rollback_sql, "Rollback SQL")
        operation["rollback_sql"] = rollback_sql.strip().rstrip(";")
        operation["rollback_note"] = AUTHOR_ROLLBACK_NOTE
    return operation


def plan_operations(plan) -> list[MigrationOperation]:
    """A stored plan's operations as the engines take them (review, rehearsal, execution)."""
    return [MigrationOperation(type=op.type, table_name=op.table, sql=op.sql, rollback_sql=op.rollback_sql or None,
                               schema=op.schema_name or plan.schema, column=op.column or None)
            for op in plan.operations.all()]
