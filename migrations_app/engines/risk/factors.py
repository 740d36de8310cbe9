"""The risk factors of one operation, each with its points, category and evidence.

Points are deliberately few and round so a reviewer can check a score by hand: the evidence
says what was measured (rows, bytes, lock, projected duration, dependents, sessions).
"""

from __future__ import annotations

from migrations_app.engines.risk.catalog import Thresholds, format_bytes, format_count, format_seconds
from migrations_app.engines.risk.model import DATA_LOSS_BASE, LOCK_POINTS, OperationContext, RiskFactor
from migrations_app.engines.statements.pg_facts import READ_BLOCKING, WRITE_BLOCKING

# Category floors set by the dependency analyzer's highest impact: a CRITICAL dependent means
# something breaks, whatever the other numbers say.
DEPENDENT_FLOORS = {"CRITICAL": 85, "HIGH": 65}
REVERSIBLE_STATICALLY = {"ADD_COLUMN", "CREATE_INDEX", "RENAME_COLUMN", "RENAME_TABLE", "CREATE_TABLE", "CREATE_VIEW",
                         "SET_NOT_NULL", "ADD_CONSTRAINT"}
NO_ROLLBACK_NEEDED = {"SET", "BEGIN", "COMMIT", "ROLLBACK", "SELECT", "VALIDATE_CONSTRAINT", "COMMENT", "ANALYZE",
                      "VACUUM"}
NEEDS_CATALOG_TO_REVERSE = {"DROP_COLUMN", "ALTER_TYPE", "DROP_NOT_NULL", "SET_DEFAULT"}


def score_operation(ctx: OperationContext, report, thresholds: Thresholds, live: bool = False) -> list[RiskFactor]:
    f: list[RiskFactor] = []
    kind = ctx.operation_type
    target = f"{ctx.table}.{ctx.column}" if ctx.column else (ctx.table or "the target")
    size = _size_text(ctx)
    large = (ctx.row_count or 0) >= thresholds.large_table_rows or (ctx.table_size_bytes or 0) >= thresholds.large_table_bytes
    env = "production" if ctx.is_production else "non-production"

    # -- data loss -------------------------------------------------------------------------
    if ctx.destroys_data:
        base = DATA_LOSS_BASE.get(kind, 15)
        if kind in ("DELETE", "UPDATE") and not ctx.has_where:
            base += 15
        what = f"{kind.replace('_', ' ')} on {target} destroys data" if ctx.table else \
            f"{kind.replace('_', ' ')} may destroy data: what it changes is not known before it runs"
        f.append(RiskFactor("destroys_data", base, "data_loss",
                            what +
                            (" (no WHERE clause: every row)" if kind in ("DELETE", "UPDATE") and not ctx.has_where else "")))
        if ctx.is_production:
            f.append(RiskFactor("production_data", 20, "data_loss", "the data lost is production data"))
        if ctx.has_backup:
            f.append(RiskFactor("backup_available", -10, "data_loss", "a verified backup is recorded for this plan"))
        else:
            f.append(RiskFactor("no_backup", 15 if ctx.is_production else 5, "data_loss", _no_backup_evidence(ctx)))
        if ctx.cascade:
            f.append(RiskFactor("cascade", 20, "data_loss", "CASCADE also drops every dependent object"))
        if large:
            f.append(RiskFactor("large_table_data", 10, "data_loss", f"{size}: a large amount of data is affected"))
    elif kind == "ALTER_TYPE":
        f.append(RiskFactor("type_conversion", 15, "data_loss",
                            f"type change of {target}: values the new type cannot represent are lost or rejected"))

    # -- system availability ---------------------------------------------------------------
    lock = ctx.lock_mode
    if lock in LOCK_POINTS:
        blocks = "reads and writes" if lock in READ_BLOCKING else ("writes" if lock in WRITE_BLOCKING else "other DDL")
        f.append(RiskFactor("lock_mode", LOCK_POINTS[lock], "system_availability",
                            f"{kind.replace('_', ' ')} takes {lock} on {ctx.table}, blocking {blocks}"))
    heavy = ctx.rewrites_table or (ctx.scans_table and kind not in ("UPDATE", "DELETE"))
    if heavy and lock in WRITE_BLOCKING:
        if ctx.table_size_bytes is not None:
            per_s = thresholds.rewrite_bytes_per_second if ctx.rewrites_table else thresholds.scan_bytes_per_second
            volume = ctx.table_size_bytes if ctx.rewrites_table else (ctx.heap_bytes or ctx.table_size_bytes)
            seconds = volume / per_s
            points = 0 if seconds < 1 else 15 if seconds < 10 else 30 if seconds < 60 else 45 if seconds < 600 else 60
            if large:
                points = max(points, 30)
            verb = "rewrites" if ctx.rewrites_table else "scans"
            if points:
                f.append(RiskFactor("blocking_rewrite" if ctx.rewrites_table else "blocking_scan", points,
                                    "system_availability",
                                    f"{size}; {kind.replace('_', ' ')} {verb} it under {lock}, {format_seconds(seconds)}"))
        else:
            f.append(RiskFactor("blocking_rewrite_unknown_size", 15, "system_availability",
                                f"{kind.replace('_', ' ')} {'rewrites' if ctx.rewrites_table else 'scans'} {ctx.table} "
                                f"under {lock}; table size unknown (static analysis, no database)"))
    if lock in WRITE_BLOCKING and (ctx.writes_per_second or 0) >= thresholds.high_write_rate_per_second:
        f.append(RiskFactor("write_rate", 10, "system_availability",
                            f"{ctx.table}: {ctx.write_rate_evidence or f'about {ctx.writes_per_second:.0f} writes/s'}; "
                            "writes like these all wait while the lock is held"))
    if ctx.long_transactions and lock in WRITE_BLOCKING:
        oldest = max(s.get("xact_age_s") or 0 for s in ctx.long_transactions)
        f.append(RiskFactor("lock_queue_hazard", 25, "system_availability",
                            f"{len(ctx.long_transactions)} transaction(s) on {ctx.table} open for up to {oldest:.0f} s: "
                            f"the {lock} request queues behind them and every new query queues behind it"))
    if ctx.is_production and lock in WRITE_BLOCKING:
        f.append(RiskFactor("production_traffic", 10, "system_availability", "the lock is taken on production"))

    # -- dependents (dependency analyzer) ----------------------------------------------------
    deps = [d for d in (report.dependencies if report else []) if d.impact.value not in ("INFORMATIONAL", "LOW")]
    if deps:
        worst = max(deps, key=lambda d: d.impact.rank).impact.value
        named = ", ".join(f"{d.type.value.lower().replace('_', ' ')} {d.schema}.{d.name}" for d in deps[:6])
        floor = DEPENDENT_FLOORS.get(worst, 0)
        current = sum(x.points for x in f if x.category == "system_availability")
        points = max(floor - current, 8 * len(deps)) if floor else 8 * len(deps)
        f.append(RiskFactor("dependent_objects", min(points, 100), "system_availability",
                            f"{len(deps)} dependent object(s) of {target} (highest impact {worst}): {named}"))
        f.append(RiskFactor("dependents_to_recreate", min(8 * len(deps), 32), "rollback_complexity",
                            f"a rollback must also recreate {len(deps)} dependent object(s)"))
        idx = [d for d in deps if d.type.value == "INDEX"]
        if idx:
            f.append(RiskFactor("indexes_lost", 10, "performance",
                                f"{len(idx)} index(es) go with {target}: queries using them slow down"))

    # -- performance -------------------------------------------------------------------------
    if ctx.rewrites_table:
        f.append(RiskFactor("rewrite_io", 30 if large else 5, "performance",
                            f"the rewrite writes {format_bytes(ctx.table_size_bytes) if ctx.table_size_bytes is not None else 'the whole table'} "
                            "again plus WAL, and rebuilds every index"))
    elif ctx.scans_table and large:
        f.append(RiskFactor("large_scan", 15, "performance", f"{size}: a full scan competes with production I/O"))
    if kind == "DROP_INDEX":
        f.append(RiskFactor("index_dropped", 25, "performance", "queries that use the index fall back to other plans"))
    if kind in ("UPDATE", "DELETE") and large:
        f.append(RiskFactor("bulk_dml", 20, "performance",
                            f"{size}: one large {kind} holds row locks and bloats the table; batch it"))
    for finding in ctx.findings:
        if getattr(finding, "rule", "") == "foreign-key-without-index":
            f.append(RiskFactor("foreign_key_without_index", 15, "performance", finding.message))
            break

    # -- rollback complexity -------------------------------------------------------------------
    # The plan analysis passes the derived rollback SQL (rollback_known); a bare runbook dict
    # gets credit for what the tool can derive (statically or from the catalog at plan time).
    if kind not in NO_ROLLBACK_NEEDED and not ctx.rollback_sql:
        if ctx.rollback_known or kind not in REVERSIBLE_STATICALLY | NEEDS_CATALOG_TO_REVERSE:
            f.append(RiskFactor("no_rollback_sql", 30, "rollback_complexity",
                                f"no rollback SQL can be derived for {kind.replace('_', ' ')}"))
    if ctx.destroys_data:
        f.append(RiskFactor("irreversible_data_loss", 25 if ctx.has_backup else 35, "rollback_complexity",
                            "restoring the destroyed data needs " + (
                                "the backup" if ctx.has_backup else
                                "the backup Execute… takes itself (planned, not yet taken)"
                                if _executor_backup(ctx) == "all" else "a backup that does not exist")))
    if not ctx.transactional:
        f.append(RiskFactor("not_transactional", 15, "rollback_complexity",
                            "runs outside a transaction: a failure leaves it half done (e.g. an INVALID index)"))
    if ctx.cascade:
        f.append(RiskFactor("cascade_rollback", 15, "rollback_complexity",
                            "objects dropped by CASCADE are not listed in the statement and must be rebuilt by hand"))
    if ctx.is_production and (ctx.destroys_data or heavy):
        f.append(RiskFactor("production_rollback", 10, "rollback_complexity", f"a failed rollback hits {env} directly"))
    return [x for x in f if x.points]


def _size_text(ctx: OperationContext) -> str:
    if ctx.row_count is None and ctx.table_size_bytes is None:
        return f"{ctx.table} (size unknown)"
    return f"{ctx.table} has {format_count(ctx.row_count or 0)} rows, {format_bytes(ctx.table_size_bytes or 0)}"


def rehearsal_factor(rehearsal: dict) -> RiskFactor | None:
    """The lock time measured on a staging rehearsal and projected to production, as a factor
    (same time bands as the estimated ``blocking_rewrite``); None without a projection."""
    projection = (rehearsal or {}).get("projection") or {}
    if projection.get("projected_ms") is None or not projection.get("mode"):
        return None
    seconds = projection["projected_ms"] / 1000
    blocking = projection["mode"] in WRITE_BLOCKING
    points = 0 if not blocking or seconds < 1 else 15 if seconds < 10 else 30 if seconds < 60 else 45 if seconds < 600 else 60
    return RiskFactor("rehearsed_lock_time", points, "system_availability", projection.get("evidence") or
                      f"rehearsal: {projection['mode']} projected {format_seconds(seconds)} on production")


def _no_backup_evidence(ctx) -> str:
    """What the data-loss finding found Execute… backs up itself (its ``executor_backup`` evidence).
    The points stay: the executor's backup is planned before the run, not taken."""
    state = _executor_backup(ctx)
    if state == "all":
        return ("no backup is recorded; Execute… backs the rows up itself before they change and a rollback "
                "restores them (planned at analysis time, not yet taken)")
    if state == "partial":
        return "no backup is recorded; Execute… backs up only part of the data itself: the rest cannot be restored"
    return "no backup is recorded: the data cannot be restored"


def _executor_backup(ctx) -> str | None:
    return next(((getattr(x, "evidence", {}) or {}).get("executor_backup") for x in ctx.findings
                 if getattr(x, "rule", "") == "data-loss-without-backup"), None)
