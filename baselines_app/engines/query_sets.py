"""The queries a baseline times, built from a table's catalog and a sample of its keys.

Per table: SELECT by primary key, SELECT by each indexed leading column, a range scan, a
count; UPDATE / INSERT / DELETE by primary key (measured only inside transactions that are
rolled back, never on production). Keys come from ``TABLESAMPLE SYSTEM ... REPEATABLE (seed)``,
so a large table is never read in full and two measurements of the same data use the same
keys. Sampled values travel as text and are bound as parameters of unknown type, so PostgreSQL
casts them to the column's type; that also keeps every baseline JSON-serializable.
"""

from __future__ import annotations

import dataclasses
import random

import psycopg
from psycopg import sql

from baselines_app.engines.catalog import query

READ_TYPES = ("SELECT",)
WRITE_TYPES = ("UPDATE", "INSERT", "DELETE")
ALL_TYPES = READ_TYPES + WRITE_TYPES
COUNT_ROW_LIMIT = 2_000_000  # count(*) above this many rows costs more than a baseline should
SAMPLE_ROW_CAP = 2_000
INTEGER_TYPES = {"smallint", "integer", "bigint"}
INSERT_TEXT_SUFFIX = "#dataflow-baseline"


class BaselineCatalogError(Exception):
    """The target's catalog could not be read, or names a table that does not exist."""


@dataclasses.dataclass
class QuerySpec:
    query_id: str  # stable key used to pair "before" and "after": TYPE:schema.table:variant
    query_type: str
    table_name: str
    schema: str
    query_label: str
    sql: str
    params: list[dict] = dataclasses.field(default_factory=list)  # rotated run by run
    source: str = "generated"  # or "pg_stat_statements"
    skip_reason: str = ""
    aggregate: dict = dataclasses.field(default_factory=dict)  # pg_stat_statements figures


def _rows(conn: psycopg.Connection, name: str, **params) -> list[dict]:
    try:
        with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            cur.execute(query(name), params)
            return cur.fetchall()
    except psycopg.Error as exc:
        raise BaselineCatalogError(f"catalog query {name} failed: {str(exc).strip().splitlines()[0]}") from exc


def _qualified(schema: str, table: str) -> sql.Composable:
    return sql.Identifier(schema, table)


def _where_keys(columns: list[str], prefix: str = "k") -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("{} = %({})s").format(sql.Identifier(c), sql.SQL(f"{prefix}{i}")) for i, c in enumerate(columns)
    )


def _sample_rows(conn, schema: str, table: dict, columns: list[str], seed: int) -> list[tuple]:
    """Up to SAMPLE_ROW_CAP rows of ``columns`` (as text) from a repeatable page sample."""
    if not columns:
        return []
    target = _qualified(schema, table["table_name"])
    select_list = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns)
    pages = max(table["relpages"], table["estimated_rows"] // 100, 1)
    percent = min(100.0, 100.0 * 40 / pages)  # about 40 pages: spread keys without reading much
    sampled = conn.execute(
        sql.SQL("SELECT {} FROM {} TABLESAMPLE SYSTEM (%(percent)s) REPEATABLE (%(seed)s) LIMIT %(cap)s").format(select_list, target),
        {"percent": percent, "seed": seed, "cap": SAMPLE_ROW_CAP},
    ).fetchall()
    if len(sampled) < 10:
        # Tiny or never-analyzed tables: the page sample can come back empty.
        sampled = conn.execute(sql.SQL("SELECT {} FROM {} LIMIT %(cap)s").format(select_list, target),
                               {"cap": SAMPLE_ROW_CAP}).fetchall()
    return sampled


def build_table_queries(conn: psycopg.Connection, schema: str, table: dict, query_types: tuple[str, ...],
                        *, seed: int, keys_per_query: int) -> list[QuerySpec]:
    name = table["table_name"]
    target = _qualified(schema, name)
    columns = _rows(conn, "bl_columns", schema=schema, table=name)
    indexes = _rows(conn, "bl_indexes", schema=schema, table=name)
    primary = next((i for i in indexes if i["is_primary"]), None)
    pk = list(primary["key_columns"][: primary["key_count"]]) if primary else []
    eq_indexes = {}
    for index in indexes:
        column = index["leading_column"]
        if index["is_primary"] or column is None or (pk and column == pk[0]) or column in eq_indexes:
            continue
        eq_indexes[column] = index
    range_column = pk[0] if pk else next(
        (c for c, i in eq_indexes.items() if i["access_method"] == "btree" and not i["is_partial"]), None)
    wanted = list(dict.fromkeys(pk + list(eq_indexes) + ([range_column] if range_column else [])))
    rows = _sample_rows(conn, schema, table, wanted, seed)
    rng = random.Random(f"{seed}:{schema}.{name}")
    position = {c: i for i, c in enumerate(wanted)}

    def values_of(column: str) -> list[str]:
        distinct = sorted({r[position[column]] for r in rows if r[position[column]] is not None})
        return rng.sample(distinct, min(keys_per_query, len(distinct)))

    pk_rows = [r for r in rows if all(r[position[c]] is not None for c in pk)]
    pk_keys = [{f"k{i}": r[position[c]] for i, c in enumerate(pk)} for r in rng.sample(pk_rows, min(keys_per_query, len(pk_rows)))]
    specs: list[QuerySpec] = []

    def add(query_type, variant, label, statement, params, skip_reason=""):
        if query_type not in query_types:
            return
        text = statement.as_string(conn) if isinstance(statement, sql.Composable) else statement
        specs.append(QuerySpec(f"{query_type}:{schema}.{name}:{variant}", query_type, name, schema, label, text,
                               params, skip_reason=skip_reason))

    no_rows = "table is empty: no keys to sample" if not rows else ""
    no_pk = "no primary key to address single rows"
    if pk:
        add("SELECT", "pk", f"SELECT {name} by primary key ({', '.join(pk)})",
            sql.SQL("SELECT * FROM {} WHERE {}").format(target, _where_keys(pk)), pk_keys, no_rows)
    for column, index in eq_indexes.items():
        values = values_of(column) if rows else []
        add("SELECT", f"eq:{column}", f"SELECT {name} by {column} ({index['index_name']})",
            sql.SQL("SELECT * FROM {} WHERE {} = %(v)s").format(target, sql.Identifier(column)),
            [{"v": v} for v in values], no_rows or ("" if values else f"{column} has no non-null values in the sample"))
    if range_column:
        values = values_of(range_column) if rows else []
        add("SELECT", f"range:{range_column}", f"SELECT {name} range scan on {range_column} (100 rows)",
            sql.SQL("SELECT * FROM {} WHERE {} >= %(v)s ORDER BY {} LIMIT 100").format(
                target, sql.Identifier(range_column), sql.Identifier(range_column)),
            [{"v": v} for v in values], no_rows)
    too_big = table["estimated_rows"] > COUNT_ROW_LIMIT
    add("SELECT", "count", f"SELECT count(*) FROM {name}", sql.SQL("SELECT count(*) FROM {}").format(target), [{}],
        f"count(*) over ~{table['estimated_rows']:,} rows costs more than a baseline should" if too_big else "")
    if not set(WRITE_TYPES) & set(query_types):
        return specs
    settable = [c for c in columns if c["generated"] == "" and c["identity"] != "a" and not c["in_primary_key"]]
    set_column = settable[0]["column_name"] if settable else (pk[0] if pk else None)
    if pk and set_column:
        add("UPDATE", "pk", f"UPDATE {name} by primary key (SET {set_column} = {set_column})",
            sql.SQL("UPDATE {} SET {} = {} WHERE {}").format(target, sql.Identifier(set_column), sql.Identifier(set_column), _where_keys(pk)),
            pk_keys, no_rows)
    else:
        add("UPDATE", "pk", f"UPDATE {name} by primary key", "", [], no_pk)
    insert, insert_reason = _insert_statement(conn, schema, name, columns, pk) if pk else (None, no_pk)
    if insert is not None:
        add("INSERT", "copy", f"INSERT INTO {name} a copy of an existing row", insert[0],
            [{**k, **insert[1]} for k in pk_keys], no_rows)
    else:
        add("INSERT", "copy", f"INSERT INTO {name} a copy of an existing row", "", [], insert_reason)
    add("DELETE", "pk", f"DELETE FROM {name} by primary key",
        sql.SQL("DELETE FROM {} WHERE {}").format(target, _where_keys(pk)) if pk else "", pk_keys if pk else [],
        no_rows if pk else no_pk)
    return specs


def _insert_statement(conn, schema: str, name: str, columns: list[dict], pk: list[str]):
    """INSERT ... SELECT of an existing row with fresh values where uniqueness demands them.

    Defaults (serial, identity) and generated columns are left to the table. In a key without
    a default, only the last integer column gets max + 1 (the others are copied, so foreign keys
    such as order_items.order_id still point at a real row); a unique integer column gets max + 1,
    a unique text column a suffix. Anything else unique cannot be synthesized: the INSERT is skipped.
    """
    target = _qualified(schema, name)
    by_name = {c["column_name"]: c for c in columns}
    pk_has_default = any(by_name[c]["has_default"] or by_name[c]["identity"] for c in pk)
    fresh_pk = None if pk_has_default else next(
        (c for c in reversed(pk) if by_name[c]["data_type"] in INTEGER_TYPES), None)
    names, expressions, extra = [], [], {}

    def fresh_param(value: str) -> sql.Composable:
        param = f"n{len(extra)}"
        extra[param] = value
        return sql.SQL("%({})s").format(sql.SQL(param))

    for column in columns:
        cname = column["column_name"]
        if column["generated"] or column["identity"] == "a":
            continue
        if column["has_default"] and (column["in_unique_index"] or column["in_primary_key"]):
            continue  # the default (a sequence, gen_random_uuid(), ...) supplies a fresh value
        in_pk, unique = column["in_primary_key"], column["in_unique_index"]
        if (in_pk and cname == fresh_pk) or (unique and column["data_type"] in INTEGER_TYPES):
            next_value = conn.execute(sql.SQL("SELECT (max({}) + 1)::text FROM {}").format(
                sql.Identifier(cname), target)).fetchone()[0]
            expressions.append(fresh_param(next_value or "1"))
        elif (in_pk and fresh_pk is None and not pk_has_default or unique) and column["type_category"] == "S":
            expressions.append(sql.SQL("{} || {}").format(sql.Identifier(cname), fresh_param(INSERT_TEXT_SUFFIX)))
        elif unique or (in_pk and fresh_pk is None and not pk_has_default):
            return None, f"cannot make a fresh value for unique column {cname} ({column['data_type']})"
        else:
            expressions.append(sql.Identifier(cname))
        names.append(sql.Identifier(cname))
    if not names:
        statement = sql.SQL("INSERT INTO {} DEFAULT VALUES").format(target)
    else:
        statement = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} WHERE {}").format(
            target, sql.SQL(", ").join(names), sql.SQL(", ").join(expressions), target, _where_keys(pk))
    return (statement.as_string(conn), extra), ""


def list_tables(conn: psycopg.Connection, schema: str, tables_filter=None) -> list[dict]:
    tables = _rows(conn, "bl_tables", schema=schema)
    if tables_filter is None:
        return tables
    by_name = {t["table_name"]: t for t in tables}
    missing = [t for t in tables_filter if t not in by_name]
    if missing:
        raise BaselineCatalogError(f"no table {', '.join(missing)} in schema {schema}")
    return [by_name[t] for t in tables_filter]

