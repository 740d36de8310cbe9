"""Generated rollback SQL: the statement that undoes a migration statement, where one can be derived.

Static derivations (ADD COLUMN -> DROP COLUMN, CREATE INDEX -> DROP INDEX, renames reversed)
need only the statement. Reversing DROP COLUMN or a type change needs the column as it is
now, read from the catalog: exact type, default, nullability, collation and constraints.
Reversing DROP INDEX / CONSTRAINT / VIEW / FUNCTION / TRIGGER / POLICY needs the object's
definition as it is now (``definitions``).
When no rollback can be derived the reason says so plainly (``sql`` is None).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from migrations_app.engines.statements.identifiers import ident
from migrations_app.engines.risk import CatalogFacts, Thresholds, fetch_catalog_facts, fetch_definitions, open_catalog
from migrations_app.engines.rollback.catalog import requests_for
from migrations_app.engines.rollback.definitions import drop_rollback, handles
from migrations_app.engines.statements import StatementInfo


@dataclass
class RollbackSuggestion:
    sql: str | None
    reason: str
    # statements a faithful rollback also needs but one rollback statement cannot carry
    follow_up: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        data = {"sql": self.sql, "reason": self.reason}
        if self.follow_up:
            data["follow_up"] = list(self.follow_up)
        return data


def suggest_rollback(statement: StatementInfo, catalog=None, *, schema: str = "public") -> RollbackSuggestion:
    """Rollback for ``statement``. ``catalog``: an open psycopg connection, a ``TargetConnection``,
    prefetched ``CatalogFacts``, or None (static derivations only)."""
    kind = statement.kind
    table = ident(statement.schema, statement.table) if statement.table else None
    d = statement.details
    if kind == "ADD_COLUMN":
        cols = [c["name"] for c in d.get("added_columns", [])]
        return RollbackSuggestion(
            f"ALTER TABLE {table} " + ", ".join(f"DROP COLUMN {ident(c)}" for c in cols),
            "dropping the added column restores the previous shape (its values are discarded)")
    if kind == "CREATE_INDEX":
        if not d.get("index"):
            return RollbackSuggestion(None, "the index has no explicit name, so its generated name is not known in advance")
        name = ident(statement.schema, d["index"])
        return RollbackSuggestion(f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
                                  "drops the index without blocking writes")
    if kind in ("RENAME_COLUMN",):
        return RollbackSuggestion(
            f"ALTER TABLE {table} RENAME COLUMN {ident(d['new_name'])} TO {ident(d['old_name'])}", "rename reversed")
    if kind in ("RENAME_TABLE", "RENAME_VIEW", "RENAME_MATVIEW", "RENAME_SEQUENCE", "RENAME_INDEX"):
        word = {"RENAME_TABLE": "TABLE", "RENAME_VIEW": "VIEW", "RENAME_MATVIEW": "MATERIALIZED VIEW",
                "RENAME_SEQUENCE": "SEQUENCE", "RENAME_INDEX": "INDEX"}[kind]
        return RollbackSuggestion(
            f"ALTER {word} {ident(statement.schema, d['new_name'])} RENAME TO {ident(d['old_name'])}", "rename reversed")
    if kind == "CREATE_TABLE":
        return RollbackSuggestion(f"DROP TABLE {table}", "drops the new table and any rows written to it since")
    if kind in ("CREATE_VIEW",):
        return RollbackSuggestion(f"DROP VIEW {table}", "drops the new view")
    if kind == "ADD_CONSTRAINT" and d.get("constraint"):
        return RollbackSuggestion(f"ALTER TABLE {table} DROP CONSTRAINT {ident(d['constraint'])}",
                                  "drops the added constraint")
    if kind == "ADD_CONSTRAINT":
        return RollbackSuggestion(None, "the constraint has no explicit name, so its generated name is not known in advance")
    if kind == "SET_NOT_NULL":
        return RollbackSuggestion(f"ALTER TABLE {table} ALTER COLUMN {ident(statement.column)} DROP NOT NULL",
                                  "removes the NOT NULL constraint again")
    if kind == "VALIDATE_CONSTRAINT":
        return RollbackSuggestion(None, "validation changes no data and needs no rollback")
    if kind in ("DROP_COLUMN", "ALTER_TYPE", "DROP_NOT_NULL", "SET_DEFAULT"):
        return _catalog_rollback(statement, catalog, schema, table)
    if kind in ("DROP_TABLE", "TRUNCATE", "DELETE", "UPDATE", "DROP_SCHEMA", "DROP_DATABASE"):
        return RollbackSuggestion(None, f"{kind.replace('_', ' ')} destroys data; it can only be undone by restoring "
                                        "the data from a backup taken before the migration")
    if handles(statement):
        return _definition_rollback(statement, catalog, schema)
    return RollbackSuggestion(None, f"no rollback can be derived for a {kind.replace('_', ' ')} statement")


def _definition_rollback(statement: StatementInfo, catalog, schema: str) -> RollbackSuggestion:
    definitions, thresholds = None, None
    if isinstance(catalog, CatalogFacts):
        definitions, thresholds = catalog.definitions, catalog.thresholds
    elif catalog is not None:
        import psycopg  # a connection: psycopg is loaded already

        try:
            with open_catalog(catalog) as conn:
                try:
                    definitions = fetch_definitions(conn, requests_for(statement, schema))
                except psycopg.Error:
                    if not conn.autocommit:
                        conn.rollback()  # the caller's later reads on this connection must still work
                    raise
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            return RollbackSuggestion(None, f"cannot read the dropped object's definition from the catalog: {first}")
    result = drop_rollback(statement, definitions, schema, thresholds)
    return RollbackSuggestion(result.sql, result.reason, result.follow_up)


def _catalog_rollback(statement: StatementInfo, catalog, schema: str, table: str) -> RollbackSuggestion:
    if catalog is None:
        return RollbackSuggestion(None, "the rollback needs the column's current definition; connect a database to derive it")
    col_schema = statement.schema or schema
    if isinstance(catalog, CatalogFacts):
        facts = catalog
    else:
        with open_catalog(catalog) as conn:
            # the column's definition is all a rollback needs: no write-rate sampling pause
            facts = fetch_catalog_facts(conn, [(col_schema, statement.table)],
                                        thresholds=Thresholds(write_sample_seconds=0))
    kind = statement.kind
    rows = []
    for obj in statement.objects[:1]:
        for column in obj.columns:
            row = facts.column(col_schema, statement.table, column)
            if row is None:
                return RollbackSuggestion(None, f"column {col_schema}.{statement.table}.{column} not found in the catalog")
            rows.append(row)
    if not rows:
        return RollbackSuggestion(None, "the statement names no column")
    parts = []
    if kind == "DROP_COLUMN":
        for row in rows:
            if row["generated"] == "s":
                parts.append(f"ADD COLUMN {ident(row['column_name'])} {row['type_sql']} "
                             f"GENERATED ALWAYS AS {row['default_sql']} STORED")
                continue
            piece = f"ADD COLUMN {ident(row['column_name'])} {row['type_sql']}"
            if row["collation"]:
                piece += f" COLLATE {row['collation']}"
            if row["identity"] in ("a", "d"):
                piece += " GENERATED " + ("ALWAYS" if row["identity"] == "a" else "BY DEFAULT") + " AS IDENTITY"
            elif row["default_sql"]:
                piece += f" DEFAULT {row['default_sql']}"
            if row["attnotnull"] and row["identity"] not in ("a", "d"):
                piece += " NOT NULL" if row["default_sql"] else ""
            parts.append(piece)
            for con in row["constraints"]:
                parts.append(f"ADD CONSTRAINT {ident(con['name'])} {con['definition']}")
        lost = "; the column's values are lost unless they were saved before the drop"
        nullable_note = ""
        if any(r["attnotnull"] and not r["default_sql"] and r["identity"] not in ("a", "d") for r in rows):
            nullable_note = "; NOT NULL without a default cannot be re-added to existing rows until they are filled"
        return RollbackSuggestion(f"ALTER TABLE {table} " + ", ".join(parts),
                                  "recreates the column with its exact type, default, nullability and constraints"
                                  + lost + nullable_note)
    if kind == "ALTER_TYPE":
        for row in rows:
            parts.append(f"ALTER COLUMN {ident(row['column_name'])} TYPE {row['type_sql']} "
                         f"USING {ident(row['column_name'])}::{row['type_sql']}")
        return RollbackSuggestion(f"ALTER TABLE {table} " + ", ".join(parts),
                                  "changes the type back with a USING cast; values the new type could not represent "
                                  "exactly are not restored")
    if kind == "DROP_NOT_NULL":
        return RollbackSuggestion(f"ALTER TABLE {table} ALTER COLUMN {ident(rows[0]['column_name'])} SET NOT NULL",
                                  "restores NOT NULL (fails if NULLs were written meanwhile)")
    row = rows[0]
    if row["default_sql"]:
        return RollbackSuggestion(f"ALTER TABLE {table} ALTER COLUMN {ident(row['column_name'])} "
                                  f"SET DEFAULT {row['default_sql']}", "restores the current default")
    return RollbackSuggestion(f"ALTER TABLE {table} ALTER COLUMN {ident(row['column_name'])} DROP DEFAULT",
                              "the column has no default now")
