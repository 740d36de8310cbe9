"""lock-queue-hazard: long-running transactions hold locks on the table right now; an ACCESS EXCLUSIVE
request would wait behind them and every later query would queue behind it (pg_locks, pg_stat_activity)."""

from migrations_app.engines.lint.base import Rule
from migrations_app.engines.statements.pg_facts import WRITE_BLOCKING

RULE = Rule(
    id="lock-queue-hazard",
    severity="error",
    needs_catalog=True,
    problem="A strong lock request waits for running transactions on the table, and all new queries on the "
            "table queue behind the waiting request: a short DDL becomes an outage.",
    solution="Wait for or end the long transactions first, and run the statement with a short lock_timeout, "
             "retrying with backoff.",
)


@RULE.check
def check(stmt, ctx):
    if not stmt.blocks_writes:
        return
    for obj in stmt.objects:
        if obj.lock_mode not in WRITE_BLOCKING:
            continue
        sessions = ctx.facts.long_transactions(obj.schema or ctx.default_schema, obj.table)
        if sessions:
            desc = ", ".join(f"pid {s['pid']} ({s['state']}, transaction open {s['xact_age_s']:.0f} s, {s['mode']})"
                             for s in sessions[:5])
            yield RULE.finding(stmt, f"{obj.lock_mode} on {obj.table} would queue behind {desc}",
                               "SET lock_timeout = '3s';\n-- retry with backoff until the lock is granted",
                               pids=[s["pid"] for s in sessions])
