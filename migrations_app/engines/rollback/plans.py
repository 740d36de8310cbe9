"""Rollback plans (runbook: Rollback Procedures) and data preservation.

Re-adding a dropped column restores the structure, not the values, so every statement that
changes existing data (UPDATE, DELETE, TRUNCATE, DROP COLUMN / TABLE, a narrowing type change)
is backed up by default: the executor copies what it will change into ``dataflow_backup``
inside the migration's transaction (so the copy exists exactly when the change does) and
records the copy's row count and checksum. The rollback restores the rows (UPDATE: the
pre-image, by primary key) and, in the same transaction, checks that the restored rows have the
captured count and checksum; a mismatch aborts the whole rollback transaction.

What cannot be backed up (no primary key to match by, FROM/USING clauses, cascading foreign
keys, a WHERE that may pick different rows each time it runs (LIMIT, TABLESAMPLE, a volatile
function...: ``selection``), or a copy above ``backup_max_bytes``) is listed in ``data_unchecked``:
the plan is irreversible for that data and nothing may call its rollback "verified" for data.

Plans are plain data (``to_dict``/``from_dict``) so the app can store them as JSON.
"""

from __future__ import annotations

import dataclasses
import uuid

import psycopg
from psycopg import sql

from migrations_app.engines.catalog import query
from migrations_app.engines.statements import (DestroyedData, MigrationOperation, StatementFacts,
                                                         analyze_statement)
from migrations_app.engines.rollback.selection import nondeterministic_selections
from migrations_app.engines.rollback.structure import RollbackStep, column_structure_steps

BACKUP_SCHEMA = "dataflow_backup"
DEFAULT_BACKUP_MAX_BYTES = 1024 ** 3
# Statements that change rows: without a backup their rollback cannot restore or check data.
DATA_CHANGING_KINDS = {"INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "COPY"}
# statements on a table that leave its columns and keys as they are: a backup planned before the run
# still matches the table after them (the dependents mitigation drops a trigger before a DROP COLUMN)
SHAPE_KEEPING_KINDS = {"CREATE_TRIGGER", "DROP_TRIGGER", "CREATE_POLICY", "ALTER_POLICY", "CREATE_RULE",
                       "CREATE_STATISTICS", "COMMENT"}


@dataclasses.dataclass
class BackupAction:
    """Runs in the migration transaction just before operation ``operation_index``."""
    operation_index: int
    backup_table: str
    sql: str
    description: str
    source: str = ""                 # schema.table whose rows are saved
    checksum_sql: str = ""           # rows, checksum and bytes of the copy, read right after it
    check_select: str = ""           # the source rows that must equal the copy after the restore
    estimated_bytes: int | None = None
    # taken before the copy, in the same transaction, by a statement that then locks the table ACCESS
    # EXCLUSIVE (TRUNCATE, DROP TABLE/COLUMN, a type change): SHARE stops writers, not readers, while
    # the copy runs, so no row is written between the copy and the change (the copy holds exactly what
    # it removes); the statement then upgrades it (a deadlock is detected by the server and retried)
    lock_sql: str = ""
    # DELETE / UPDATE: the statement must change exactly the rows copied (a row another session
    # wrote between the copy and the statement would change unsaved); checked by the executor
    matches_statement_rows: bool = False
    rows: int | None = None          # captured by the executor
    checksum: str | None = None
    bytes: int | None = None

    def capture(self, conn: psycopg.Connection) -> None:
        self.rows, self.checksum, self.bytes = conn.execute(self.checksum_sql).fetchone()

    def verify_sql(self, tag: str) -> str:
        """A DO block that fails the rollback transaction unless the restored rows have the count
        and checksum captured when the copy was taken."""
        found = _checksum(sql.SQL(self.check_select)).as_string(None)
        body = sql.SQL(
            "DECLARE found_rows bigint; found_sum text; BEGIN {found} INTO found_rows, found_sum; "
            "IF found_rows <> {rows} OR found_sum <> {sum} THEN RAISE EXCEPTION "
            "'data check failed for %: % row(s) with checksum %, the backup captured % row(s) with checksum %', "
            "{source}, found_rows, found_sum, {rows}, {sum}; END IF; END").format(
            found=sql.SQL(found), rows=sql.Literal(self.rows), sum=sql.Literal(self.checksum),
            source=sql.Literal(self.source)).as_string(None)
        quote = f"$dfv_{tag}$"
        if quote in body:
            raise ValueError("the data check cannot be quoted")
        return f"DO {quote} {body} {quote}"


@dataclasses.dataclass
class RollbackPlan:
    fully_reversible: bool
    irreversible_operations: list[dict]
    steps: list[RollbackStep]
    preserve_data: bool = False
    backup_tag: str = ""
    backups: list[BackupAction] = dataclasses.field(default_factory=list)
    schemas: list[str] = dataclasses.field(default_factory=list)
    digest_before: str | None = None   # set by the execution that this plan undoes
    objects_before: dict | None = None  # that digest's objects: a rollback's schema diff starts from them
    backup_max_bytes: int | None = None
    # data-changing operations whose data the rollback neither restores nor checks
    data_unchecked: list[dict] = dataclasses.field(default_factory=list)

    @property
    def data_reversible(self) -> bool:
        return not self.data_unchecked

    @property
    def changes_data(self) -> bool:
        return bool(self.backups or self.data_unchecked)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RollbackPlan":
        data = dict(data)
        data["steps"] = [RollbackStep(**s) for s in data.get("steps", [])]
        data["backups"] = [BackupAction(**b) for b in data.get("backups", [])]
        return cls(**data)


def build_rollback_plan(conn: psycopg.Connection | None, operations: list[MigrationOperation],
                        facts: list[StatementFacts], *, preserve_data: bool,
                        backup_tag: str | None = None, backup_max_bytes: int | None = DEFAULT_BACKUP_MAX_BYTES
                        ) -> RollbackPlan:
    """``conn`` (read-only is enough) is needed with ``preserve_data`` to read columns, keys,
    foreign keys and sizes. ``backup_max_bytes``: the plan's backups together stay below it."""
    tag = backup_tag or uuid.uuid4().hex[:10]
    budget = _Budget(backup_max_bytes)
    preserved: dict[int, _Preserved | list[str]] = {}
    reshaped: set[tuple[str, str]] = set()
    # one catalog read for the whole plan: the WHEREs that may pick different rows each time
    unsure = nondeterministic_selections(conn, operations, facts) if preserve_data and conn is not None else {}
    for index, fact in enumerate(facts):  # forward order: earlier operations get the budget first
        if fact.destroys_data and preserve_data:
            tables = {(d.schema, d.table) for d in fact.destroyed}
            if tables & reshaped:
                # the columns read now would not match the table when the copy runs
                preserved[index] = ["an earlier operation of the plan changes the table's structure, so its "
                                    "rows cannot be backed up with the columns known before the run"]
            else:
                preserved[index] = _preserve_operation(conn, index, fact, tag, budget, unsure)
        if fact.kind not in DATA_CHANGING_KINDS | SHAPE_KEEPING_KINDS | {"ADD_COLUMN", "ALTER_TABLE:AddColumn"}:
            op = operations[index]
            reshaped |= {(d.schema, d.table) for d in fact.destroyed} | {(op.schema, op.table_name)}
    irreversible, unchecked, backups, steps, drops = [], [], [], [], []
    for index in reversed(range(len(operations))):
        op, fact = operations[index], facts[index]
        made = preserved.get(index)
        saved = made if isinstance(made, _Preserved) else None
        structural = bool(op.rollback_sql and op.rollback_sql.strip())
        data_only = bool(fact.destroyed) and all(d.kind in ("rows", "updated_rows") or _is_truncate(fact, d)
                                                for d in fact.destroyed)
        reasons, data_reasons = [], []
        if not structural and not (saved and data_only):
            reasons.append("no rollback SQL")
        if fact.destroys_data and not saved:
            data_reasons = (made if isinstance(made, list) else None) or \
                [d.reason or "destroys data" for d in fact.destroyed] or ["destroys data"]
            if not preserve_data:
                data_reasons = [f"{r} (data preservation is off)" for r in data_reasons]
        elif fact.kind in DATA_CHANGING_KINDS and not fact.destroys_data:
            data_reasons = [f"{fact.kind} changes rows that are not backed up"]
        if reasons or data_reasons:
            irreversible.append(_describe(index, op, reasons + data_reasons, data=bool(data_reasons)))
        if data_reasons:
            unchecked.append(_describe(index, op, data_reasons, data=True))
        if structural:
            transactional = analyze_statement(op.rollback_sql, default_schema=op.schema).transactional
            steps.append(RollbackStep(index, "rollback_sql", op.rollback_sql.strip(),
                                      op.description or f"undo {op.type} on {op.table_name}", transactional))
        if saved:
            backups += saved.backups
            steps += saved.restores
            drops += saved.drops
        if conn is not None and fact.destroys_data:
            steps += column_structure_steps(conn, index, op, fact, values_restored=saved is not None)
    backups.sort(key=lambda b: b.operation_index)
    schemas = sorted({op.schema for op in operations} | {d.schema for f in facts for d in f.destroyed})
    return RollbackPlan(fully_reversible=not irreversible, irreversible_operations=sorted(
        irreversible, key=lambda item: item["operation_index"]), steps=steps + drops,
        preserve_data=preserve_data, backup_tag=tag, backups=backups, schemas=schemas,
        backup_max_bytes=backup_max_bytes if preserve_data else None,
        data_unchecked=sorted(unchecked, key=lambda item: item["operation_index"]))


def _describe(index: int, op: MigrationOperation, reasons: list[str], *, data: bool) -> dict:
    return {"operation_index": index, "type": op.type, "table_name": op.table_name, "sql": op.sql,
            "reasons": reasons, "data": data}


def _is_truncate(fact: StatementFacts, destroyed: DestroyedData) -> bool:
    return fact.kind == "TRUNCATE" and destroyed.kind == "table"


@dataclasses.dataclass
class _Preserved:
    backups: list[BackupAction]
    restores: list[RollbackStep]
    drops: list[RollbackStep]


class _Budget:
    def __init__(self, limit: int | None):
        self.limit, self.used = limit, 0

    def take(self, size: int, what: str) -> str | None:
        if self.limit is not None and self.used + size > self.limit:
            return (f"backing up {what} needs about {_bytes(size)}, above the backup size limit "
                    f"({_bytes(self.limit)}, {_bytes(self.used)} already planned)")
        self.used += size
        return None


def _preserve_operation(conn, index: int, fact: StatementFacts, tag: str, budget: _Budget,
                        unsure: dict[tuple[int, int], str] | None = None):
    """A ``_Preserved`` for the operation, or the reasons its data cannot be preserved. ``unsure``:
    (operation, destroyed item) -> why its WHERE may pick different rows each time."""
    if conn is None:
        return ["data preservation needs a connection to read the table's columns"]
    if not fact.destroyed:
        return ["marked as destroying data, but what it destroys is not known"]
    items = list(fact.destroyed)
    if fact.kind == "TRUNCATE":
        # the referencing tables CASCADE empties are found and backed up here, one by one
        items = _with_truncate_cascade(conn, [d for d in items if d.kind == "table"])
    out, reasons = _Preserved([], [], []), []
    for n, destroyed in enumerate(items):
        made = _preserve(conn, index, n, destroyed, tag, budget, (unsure or {}).get((index, n)))
        if isinstance(made, str):
            reasons.append(made)
            continue
        out.backups.append(made[0])
        out.restores.extend(made[1])
        out.drops.append(made[2])
    return reasons or out


def _with_truncate_cascade(conn, items: list[DestroyedData]) -> list[DestroyedData]:
    """TRUNCATE ... CASCADE also empties every table whose foreign keys reach the named ones;
    parents come first so that restoring in this order satisfies the foreign keys."""
    seen = {(d.schema, d.table) for d in items}
    out, queue = list(items), list(items)
    while queue:
        d = queue.pop(0)
        for row in conn.execute(query("exec_referencing_fks"), {"schema": d.schema, "table": d.table}).fetchall():
            if (row[0], row[1]) not in seen:
                seen.add((row[0], row[1]))
                child = DestroyedData("table", row[0], row[1], reason=f"TRUNCATE ... CASCADE empties it (via {row[2]})")
                out.append(child)
                queue.append(child)
    return out


def _preserve(conn, index: int, n: int, d: DestroyedData, tag: str, budget: _Budget, unsure: str | None = None):
    """(backup action, restore step, drop-backup step), or the reason it cannot be preserved."""
    if d.kind not in ("table", "rows", "updated_rows", "column"):
        return f"{d.reason or 'it destroys objects'}: not preservable by copying rows"
    columns = conn.execute(query("exec_table_columns"), {"schema": d.schema, "table": d.table}).fetchall()
    if not columns:
        return f"table {d.schema}.{d.table} not found, cannot preserve its data"
    names = [name for name, _ in columns]
    keys = [name for name, in_pk in columns if in_pk]
    refusal = _refusal(conn, d, keys, unsure)
    if refusal:
        return refusal
    backup = sql.Identifier(BACKUP_SCHEMA, f"{tag}_{index}_{n}_{d.table}"[:63])
    source = sql.Identifier(d.schema, d.table)
    where = sql.SQL(" WHERE ({})").format(sql.SQL(d.where_sql)) if d.where_sql else sql.SQL("")
    saved_names = keys + [d.column] if d.kind == "column" else names
    saved = sql.SQL(", ").join(map(sql.Identifier, saved_names))
    selected = sql.SQL("SELECT {} FROM {}{}").format(saved, source, sql.SQL("") if d.kind == "column" else where)
    what = f"values of {d.schema}.{d.table}.{d.column}" if d.kind == "column" else f"rows of {d.schema}.{d.table}"
    size = _size(conn, d, selected)
    over = budget.take(size, what)
    if over:
        return over
    copy = sql.SQL("CREATE TABLE {} AS ").format(backup) + selected
    match = sql.SQL(" AND ").join(sql.SQL("t.{k} = b.{k}").format(k=sql.Identifier(k)) for k in keys)
    if d.kind == "column":
        restore = sql.SQL("UPDATE {} AS t SET {c} = b.{c} FROM {} AS b WHERE {}").format(
            source, backup, match, c=sql.Identifier(d.column))
        kind = "restore_column"
    elif d.kind == "updated_rows":
        others = [name for name in names if name not in keys]
        restore = sql.SQL("UPDATE {} AS t SET ({}) = ROW({}) FROM {} AS b WHERE {}").format(
            source, sql.SQL(", ").join(map(sql.Identifier, others)),
            sql.SQL(", ").join(sql.SQL("b.{}").format(sql.Identifier(c)) for c in others), backup, match)
        kind, what = "restore_rows", f"the pre-image of the updated rows of {d.schema}.{d.table}"
    else:
        # OVERRIDING SYSTEM VALUE keeps the original ids of GENERATED ALWAYS identity columns.
        restore = sql.SQL("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {}").format(
            source, saved, saved, backup)
        kind = "restore_rows"
    check = _check_select(source, backup, saved_names, keys, where if d.kind == "rows" else sql.SQL(""))
    lock = (sql.SQL("LOCK TABLE {} IN SHARE MODE").format(source).as_string(None)
            if d.kind in ("table", "column") else "")
    action = BackupAction(index, backup.as_string(None), copy.as_string(None), f"save {what}",
                          source=f"{d.schema}.{d.table}", estimated_bytes=size, lock_sql=lock,
                          matches_statement_rows=d.kind in ("rows", "updated_rows"),
                          checksum_sql=(_checksum(sql.SQL("SELECT {} FROM {}").format(saved, backup), backup)
                                        .as_string(None)),
                          check_select=check.as_string(None))
    restores = [RollbackStep(index, kind, restore.as_string(None), f"restore {what}")]
    if _has_user_triggers(conn, d.schema, d.table):
        # the saved rows already carry what the table's triggers did: restoring them must not fire
        # the triggers again (order_items' trigger would add to orders.total_cents; pg_restore
        # --disable-triggers does the same); FK checks are internal triggers and stay on
        restores = [RollbackStep(index, "restore_triggers_off",
                                 sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(source).as_string(None),
                                 f"keep the triggers of {d.schema}.{d.table} from firing while its data is restored"),
                    *restores,
                    RollbackStep(index, "restore_triggers_on",
                                 sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(source).as_string(None),
                                 f"turn the triggers of {d.schema}.{d.table} back on")]
    return (action, restores,
            RollbackStep(index, "drop_backup", sql.SQL("DROP TABLE {}").format(backup).as_string(None),
                         f"drop the backup of {what}"))


def _has_user_triggers(conn, schema: str, table: str) -> bool:
    """The table has user triggers, all enabled (with one disabled, ENABLE TRIGGER USER afterwards
    would turn it on: the restore then leaves the triggers alone)."""
    row = conn.execute("SELECT count(*) FILTER (WHERE tgenabled <> 'D'), count(*) FILTER (WHERE tgenabled = 'D') "
                       "FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = to_regclass(%s)",
                       [sql.Identifier(schema, table).as_string(None)]).fetchone()
    return bool(row and row[0] and not row[1])


def _refusal(conn, d: DestroyedData, keys: list[str], unsure: str | None = None) -> str | None:
    """Why ``d`` cannot be backed up, or None. ``unsure``: why its WHERE may pick different rows
    than a copy taken just before (``selection``): the copy could hold the wrong rows with the right
    count, and the rollback would restore them as the lost ones."""
    if d.kind in ("column", "updated_rows") and not keys:
        return f"{d.schema}.{d.table} has no primary key to match the saved rows by"
    if d.kind in ("rows", "updated_rows") and d.where_sql is None and d.reason.endswith("alias)"):
        return f"{d.reason.split(' (')[0]} with {d.reason.split('(')[-1][:-1]}: the rows cannot be selected beforehand"
    if d.kind in ("rows", "updated_rows") and unsure:
        return unsure
    if d.kind == "updated_rows" and set(d.columns) & set(keys):
        return f"the UPDATE changes the primary key of {d.schema}.{d.table}: the rows cannot be matched back"
    if d.kind in ("rows", "updated_rows"):
        for schema, table, name, on_delete, on_update, referenced in conn.execute(
                query("exec_referencing_fks"), {"schema": d.schema, "table": d.table}).fetchall():
            cascades = on_delete in ("c", "n", "d") if d.kind == "rows" else (
                on_update in ("c", "n", "d") and set(referenced) & set(d.columns))
            if cascades:
                return (f"foreign key {name} on {schema}.{table} changes rows there too (ON "
                        f"{'DELETE' if d.kind == 'rows' else 'UPDATE'} action): they are not backed up")
    return None


def _size(conn, d: DestroyedData, selected: sql.Composed) -> int:
    if d.kind == "table":
        row = conn.execute(query("exec_table_size"), {"schema": d.schema, "table": d.table}).fetchone()
        return int(row[0] or 0) if row else 0
    measured = sql.SQL("SELECT coalesce(sum(pg_column_size(r.*)), 0) FROM ({}) AS r").format(selected)
    return int(conn.execute(measured).fetchone()[0])


def _check_select(source, backup, names: list[str], keys: list[str], where) -> sql.Composed:
    cols = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in names)
    if keys:
        key_cols = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(k)) for k in keys)
        backup_keys = sql.SQL(", ").join(sql.SQL("b.{}").format(sql.Identifier(k)) for k in keys)
        return sql.SQL("SELECT {} FROM {} AS t WHERE ({}) IN (SELECT {} FROM {} AS b)").format(
            cols, source, key_cols, backup_keys, backup)
    return sql.SQL("SELECT {} FROM {} AS t{}").format(cols, source, where)


def _checksum(selected: sql.Composable, backup: sql.Identifier | None = None) -> sql.Composed:
    """Row count and an order-independent checksum (md5 over the sorted md5 of each row's text)."""
    size = sql.SQL(", pg_total_relation_size({}::regclass)").format(
        sql.Literal(backup.as_string(None))) if backup is not None else sql.SQL("")
    return sql.SQL("SELECT count(*), md5(coalesce(string_agg(md5(r::text), '' ORDER BY md5(r::text) "
                   "COLLATE \"C\"), ''))::text{} FROM ({}) AS r").format(size, selected)


def _bytes(n: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def backup_schema_sql() -> str:
    return sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(BACKUP_SCHEMA)).as_string(None)
