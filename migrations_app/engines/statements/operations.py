"""``MigrationOperation`` and the facts the executor needs about its SQL, from the one statement
model that the review also reads.

Two facts decide how a statement is executed and rolled back:

- *transactional*: PostgreSQL refuses some statements inside a transaction block
  (CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY / SCHEMA / DATABASE / SYSTEM, VACUUM,
  DETACH PARTITION CONCURRENTLY, CLUSTER without a table). Those run alone in autocommit.
- *destroys data*: DROP COLUMN / TABLE / SCHEMA, TRUNCATE, DELETE, UPDATE, a type change that may
  narrow, DROP ... CASCADE, dynamic SQL; re-adding a column restores the structure, not the data.

The statement policy is part of the facts: ``facts()`` raises ``StatementRefused`` for a refused
statement, so nothing refused can reach a target even when the stored rows were edited by hand.
``MigrationOperation.transactional`` / ``destroys_data`` set to a bool override the detection.
"""

from __future__ import annotations

import copy
import dataclasses
from functools import lru_cache

from migrations_app.engines.statements.destroyed import DestroyedData, destroyed_data
from migrations_app.engines.statements.model import AnalysisEnv, RawStatement, SqlSyntaxError, StatementInfo
from migrations_app.engines.statements.parse import describe, split_script
from migrations_app.engines.statements.policy import StatementRefused


# the statement-facts memo: entries, and the longest statement text it keeps (a 1 MB INSERT is parsed
# each time rather than held in every worker's memory)
MEMO_ENTRIES = 2048
MEMO_MAX_CHARS = 8192


class StatementParseError(ValueError):
    pass


@dataclasses.dataclass
class StatementFacts:
    kind: str
    transactional: bool
    destroys_data: bool
    destroyed: list[DestroyedData] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class MigrationOperation:
    type: str
    table_name: str
    sql: str
    rollback_sql: str | None = None
    schema: str = "public"
    column: str | None = None
    transactional: bool | None = None      # None: detect from the SQL
    destroys_data: bool | None = None      # None: detect from the SQL
    description: str = ""

    def facts(self) -> StatementFacts:
        facts = analyze_statement(self.sql, default_schema=self.schema)
        if self.transactional is not None:
            facts.transactional = self.transactional
        if self.destroys_data is not None:
            facts.destroys_data = self.destroys_data
            if not self.destroys_data:
                facts.destroyed = []
        return facts

    def check_policy(self) -> None:
        """Raises ``StatementRefused`` when the SQL or the rollback SQL is refused by the policy."""
        analyze_statement(self.sql, default_schema=self.schema)
        if self.rollback_sql and self.rollback_sql.strip():
            check_sql_policy(self.rollback_sql, default_schema=self.schema)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _raw(sql_text: str) -> list[RawStatement]:
    try:
        return split_script(sql_text)
    except SqlSyntaxError as exc:
        raise StatementParseError(f"cannot parse SQL: {exc}") from None


def _refuse_if_needed(info: StatementInfo) -> None:
    if info.refusals:
        raise StatementRefused([(info.line, info.sql, verdict) for verdict in info.refusals])


def check_sql_policy(sql_text: str, *, default_schema: str = "public") -> None:
    """Every statement of ``sql_text`` through the policy (tool-made rollback steps may hold several)."""
    if len(sql_text) > MEMO_MAX_CHARS:
        _check_sql_policy.__wrapped__(sql_text, default_schema)
    else:
        _check_sql_policy(sql_text, default_schema)


@lru_cache(maxsize=MEMO_ENTRIES)
def _check_sql_policy(sql_text: str, default_schema: str) -> bool:
    # memoised only when it passes (a refusal raises, and raises again next time)
    for raw in _raw(sql_text):
        _refuse_if_needed(describe(raw, AnalysisEnv(default_schema=default_schema)))
    return True


def statement_info(sql_text: str, *, default_schema: str = "public") -> StatementInfo:
    """The one statement of an operation, with its facts; refused or multi-statement SQL raises."""
    raws = _raw(sql_text)
    if len(raws) != 1:
        raise StatementParseError(f"an operation holds exactly one statement, found {len(raws)}")
    info = describe(raws[0], AnalysisEnv(default_schema=default_schema))
    _refuse_if_needed(info)
    return info


def analyze_statement(sql_text: str, *, default_schema: str = "public") -> StatementFacts:
    """The facts are a pure function of the text and the default schema, and parsing is the
    costliest client-side step of an execution (the app, the executor and the policy check each
    ask for the same statement's facts): the answers are memoised, each caller gets its own copy.
    A refused or unparsable statement is never memoised: it raises every time; nor is a long one
    (the memo keeps its text: at most MEMO_ENTRIES x MEMO_MAX_CHARS characters per process)."""
    if len(sql_text) > MEMO_MAX_CHARS:
        return _analyze_statement.__wrapped__(sql_text, default_schema)
    return copy.deepcopy(_analyze_statement(sql_text, default_schema))


def forget_parsed_statements() -> None:
    """Empties the memo (a benchmark timing a process that has not seen the statements)."""
    _analyze_statement.cache_clear()
    _check_sql_policy.cache_clear()


@lru_cache(maxsize=MEMO_ENTRIES)
def _analyze_statement(sql_text: str, default_schema: str) -> StatementFacts:
    info = statement_info(sql_text, default_schema=default_schema)
    destroyed = destroyed_data(info, default_schema)
    return StatementFacts(kind=info.kind, transactional=info.transactional,
                          destroys_data=info.destroys_data or bool(destroyed), destroyed=destroyed)


def operations_from_script(sql_text: str, *, schema: str = "public") -> list[MigrationOperation]:
    """One operation per statement (no rollback SQL): for scripts and the benchmark."""
    ops = []
    for raw in _raw(sql_text):
        info = describe(raw, AnalysisEnv(default_schema=schema))
        ops.append(MigrationOperation(type=info.kind, table_name=info.table or "", sql=raw.sql, schema=schema))
    return ops
