"""The target's own top queries, from ``pg_stat_statements`` when it is installed.

pg_stat_statements keeps normalized text (``WHERE id = $1``), which cannot be executed without
values; PostgreSQL 16 added ``EXPLAIN (GENERIC_PLAN)`` to plan such text. So on 16+ the top
queries contribute their plan shape plus pg_stat_statements' own timing aggregates; on older
servers, or when the view cannot be read, they are listed as skipped with the reason.
sqlglot parses each statement to learn its type and the tables it reads, for ``tables_filter``.
"""

from __future__ import annotations

import psycopg
import sqlglot
from psycopg import sql
from sqlglot import expressions as exp

from baselines_app.engines.catalog import query

from .query_sets import QuerySpec

GENERIC_PLAN_VERSION = 160000
TOP_LIMIT = 5


def statement_facts(text: str) -> tuple[str | None, list[tuple[str | None, str]]]:
    """(query type, [(schema, table), ...]) of one statement; (None, []) when sqlglot cannot parse it."""
    try:
        tree = sqlglot.parse_one(text, read="postgres")
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError):
        return None, []
    if tree is None:
        return None, []
    kinds = ((exp.Update, "UPDATE"), (exp.Insert, "INSERT"), (exp.Delete, "DELETE"), (exp.Query, "SELECT"))
    query_type = next((name for cls, name in kinds if isinstance(tree, cls)), None)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    tables = sorted({(t.db or None, t.name) for t in tree.find_all(exp.Table) if t.name and t.name not in ctes},
                    key=lambda item: (item[0] or "", item[1]))
    return query_type, tables


def _skipped(schema: str, reason: str) -> list[QuerySpec]:
    return [QuerySpec(f"TOP:{schema}:pg_stat_statements", "SELECT", "", schema, "top queries from pg_stat_statements",
                      "", [], source="pg_stat_statements", skip_reason=reason)]


def top_statement_specs(conn: psycopg.Connection, schema: str, tables_filter, query_types, *, production: bool,
                        limit: int = TOP_LIMIT) -> list[QuerySpec]:
    rows = conn.execute(query("bl_pg_stat_statements")).fetchall()
    if not rows:
        return _skipped(schema, "pg_stat_statements is not installed in this database")
    version = conn.info.server_version
    if version < GENERIC_PLAN_VERSION:
        return _skipped(schema, f"replaying top queries needs EXPLAIN (GENERIC_PLAN), PostgreSQL 16+; "
                                f"this server is {version // 10000}.{version % 10000}")
    try:
        with conn.transaction():
            statements = conn.execute(sql.SQL(query("bl_top_statements")).format(pgss=sql.Identifier(rows[0][0])),
                                      {"limit": limit * 4}).fetchall()
    except psycopg.Error as exc:
        return _skipped(schema, f"pg_stat_statements cannot be read: {str(exc).strip().splitlines()[0]}")
    wanted = set(tables_filter) if tables_filter is not None else None
    specs = []
    for queryid, text, calls, mean_ms, stddev_ms, min_ms, max_ms in statements:
        query_type, tables = statement_facts(text)
        if query_type is None or query_type not in query_types or (production and query_type != "SELECT"):
            continue
        in_schema = [name for table_schema, name in tables if table_schema in (None, schema)]
        if not in_schema or (wanted is not None and not wanted & set(in_schema)):
            continue
        table = next((t for t in in_schema if wanted is None or t in wanted), in_schema[0])
        specs.append(QuerySpec(f"{query_type}:{schema}.{table}:top:{queryid}", query_type, table, schema,
                               f"top query {queryid} ({calls} calls)", text, [], source="pg_stat_statements",
                               aggregate={"calls": calls, "mean_ms": mean_ms, "stddev_ms": stddev_ms,
                                          "min_ms": min_ms, "max_ms": max_ms}))
        if len(specs) >= limit:
            break
    return specs
