"""Project the lock time a plan will cause on production from a rehearsal on a sampled copy.

Method (stated in every projection so a reviewer can check it):

- A statement whose cost scales with the table's rows (it rewrote the table, as relfilenode
  showed, or the parser says it rewrites or scans it: CREATE INDEX, SET NOT NULL, ADD
  CONSTRAINT ... CHECK/FOREIGN KEY, UPDATE, DELETE) is projected as duration / fraction, where
  the fraction is staging rows / production rows of its table (the sample plus the parent rows
  that came along), or the copy's sample size when the table's counts are unknown.
- Any other statement (a catalog-only change such as ADD COLUMN without a volatile default,
  RENAME, DROP) costs the same on production: its duration is kept as measured.
- Inside a transaction a lock is held until COMMIT, so the lock a statement takes is held for
  its own duration plus that of every later statement of the same transaction. A statement run
  in autocommit (CONCURRENTLY) holds its lock for its own duration only.

The projection ignores lock waits (production has other sessions, staging has none) and cache
effects; it is a lower bound on the lock time, never an upper one, and says so.
"""

from __future__ import annotations

import dataclasses

from migrations_app.engines.rehearsal.lock_sampler import RANK, sql_mode
from migrations_app.engines.statements.pg_facts import WRITE_BLOCKING

CAVEAT = ("lower bound: lock waits behind production sessions and cold caches are not in a rehearsal "
          "on an idle copy")


@dataclasses.dataclass
class LockProjection:
    statement_index: int | None
    mode: str | None              # SQL name, e.g. ACCESS EXCLUSIVE
    relation: str | None
    measured_ms: float
    projected_ms: float
    sample_fraction: float
    basis: str
    evidence: str
    total_measured_ms: float
    total_projected_ms: float
    method: str = ("rows-scaling statements (rewrites, scans) divided by the table's sample fraction, "
                   "catalog-only statements kept as measured; a lock is held until its transaction commits")
    caveat: str = CAVEAT

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def format_duration(ms: float) -> str:
    seconds = ms / 1000
    if seconds < 0.01:
        return f"{ms:.1f} ms"
    if seconds < 10:
        return f"{seconds:.2f}".rstrip("0").rstrip(".") + " s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def percent(fraction: float) -> str:
    value = fraction * 100
    return f"{value:.0f}%" if value >= 1 else f"{value:.2g}%"


def project_lock_times(statements, sample_fraction: float, table_fractions: dict[str, float]) -> LockProjection:
    """Fills ``statement.projection`` for every statement and returns the plan's worst lock."""
    for stmt in statements:
        fraction = _fraction(stmt.table, sample_fraction, table_fractions)
        if stmt.rewritten or stmt.static_rewrite:
            scales, basis = True, ("rewrote " + ", ".join(stmt.rewritten_tables) if stmt.rewritten
                                   else "rewrites the table") + f": scales with rows (/ {fraction:.3g})"
        elif stmt.static_scan:
            scales, basis = True, f"scans the table: scales with rows (/ {fraction:.3g})"
        else:
            scales, basis = False, "catalog-only: the same on production"
        measured = stmt.duration_ms or 0.0
        stmt.projection = {"fraction": fraction, "scales_with_rows": scales, "basis": basis,
                           "projected_ms": round(measured / fraction if scales else measured, 3)}
    for position, stmt in enumerate(statements):
        if stmt.duration_ms is None:
            continue
        following = _rest_of_transaction(statements, position)
        stmt.projection["lock_held_ms"] = round(sum(s.duration_ms or 0.0 for s in following), 3)
        stmt.projection["projected_lock_ms"] = round(sum(s.projection["projected_ms"] for s in following), 3)
    return _worst(statements, sample_fraction)


def _fraction(table: str | None, default: float, table_fractions: dict[str, float]) -> float:
    value = table_fractions.get(table) if table else None
    value = value if value and value > 0 else default
    return min(1.0, max(value, 1e-6))


def _rest_of_transaction(statements, position: int) -> list:
    stmt = statements[position]
    if not stmt.transactional or stmt.txid is None:
        return [stmt]
    return [s for s in statements[position:] if s.txid == stmt.txid and s.duration_ms is not None]


def _worst(statements, sample_fraction: float) -> LockProjection:
    measured_total = round(sum(s.duration_ms or 0.0 for s in statements), 3)
    projected_total = round(sum(s.projection.get("projected_ms", 0.0) for s in statements if s.duration_ms is not None), 3)
    locked = [s for s in statements if s.lock_mode and "projected_lock_ms" in s.projection]
    blocking = [s for s in locked if sql_mode(s.lock_mode) in WRITE_BLOCKING and s.lock_acquired]
    pool = blocking or locked
    if not pool:
        return LockProjection(None, None, None, 0.0, 0.0, sample_fraction, "no relation lock was observed",
                              f"rehearsed on a {percent(sample_fraction)} copy: no lock on an existing table was "
                              "observed", measured_total, projected_total)
    worst = max(pool, key=lambda s: (s.projection["projected_lock_ms"], RANK.get(s.lock_mode, -1)))
    mode = sql_mode(worst.lock_mode)
    fraction = worst.projection["fraction"]
    held, projected = worst.projection["lock_held_ms"], worst.projection["projected_lock_ms"]
    span = _rest_of_transaction(statements, statements.index(worst))
    if len(span) > 1:
        scaling = [s.index + 1 for s in span if s.projection["scales_with_rows"]]
        basis = (f"held until COMMIT, through statements {span[0].index + 1}-{span[-1].index + 1}; "
                 + (f"statement(s) {', '.join(map(str, scaling))} scale with rows (/ {fraction:.3g})" if scaling
                    else "all catalog-only, the same on production"))
    else:
        basis = worst.projection["basis"]
    # the fraction is of this table's rows, not the copy's sample size (parent rows come along)
    table = worst.table or worst.lock_relation
    evidence = (f"rehearsed on a copy holding {percent(fraction)} of the rows of {table}: "
                f"{mode} on {worst.lock_relation} held "
                f"{format_duration(held)}, projected {format_duration(projected)} on production "
                f"(statement {worst.index + 1}, {basis})")
    return LockProjection(worst.index, mode, worst.lock_relation, held, projected, fraction,
                          basis, evidence, measured_total, projected_total)
