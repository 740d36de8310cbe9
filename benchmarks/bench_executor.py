"""Benchmark: a generated 200-statement migration through AtomicMigrationExecutor versus
``psql -1 -f`` of the same file, in the same run, plus the migration lock's acquire+release cost.

Honest by construction:

- every timed run gets its own freshly created database (dfbench_exec_*), all of a round's
  databases are created before any of its timings, and the order of the runs alternates
  between rounds, so neither side always runs on a quieter or warmer server;
- ``psql -1 -f`` is timed as a user runs it (process start, connect, the file in one
  transaction); the executor as the app runs it: migration lock taken and released, lock and
  statement timeouts, search_path, before/after schema digests, per-statement log and a progress
  callback receiving every event;
- the figures are medians over the rounds (at least 5), with each round's own ratio shown too.

Creates its own databases on the server of ``--dsn`` (default: DATABASE_URL's server, else
postgresql://postgres@127.0.0.1:5432/postgres) and drops exactly those at the end.

    .venv/bin/python benchmarks/bench_executor.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from psycopg import sql  # noqa: E402

from migrations_app.engines.execution import AtomicMigrationExecutor, MigrationLockManager  # noqa: E402
from migrations_app.engines.execution.journal import ensure_journal  # noqa: E402
from migrations_app.engines.statements import operations_from_script  # noqa: E402
from migrations_app.engines.statements.operations import forget_parsed_statements  # noqa: E402
from targets.engines.connections import TargetConnection  # noqa: E402

PREFIX = "dfbench_exec_"
MIN_ROUNDS = 5


def migration_script(tables: int = 20) -> str:
    """Ten statements per table: DDL, data changes, an index, a view, a rename."""
    out = []
    for i in range(tables):
        t = f"bench_{i}"
        out += [
            f"CREATE TABLE {t} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, "
            f"created_at timestamptz DEFAULT now());",
            f"INSERT INTO {t} (name) SELECT 'n' || g FROM generate_series(1, 200) AS g;",
            f"ALTER TABLE {t} ADD COLUMN status text DEFAULT 'new';",
            f"CREATE INDEX {t}_name_idx ON {t} (name);",
            f"ALTER TABLE {t} ADD CONSTRAINT {t}_name_len CHECK (length(name) < 100);",
            f"COMMENT ON TABLE {t} IS 'benchmark table {i}';",
            f"UPDATE {t} SET status = 'old' WHERE id % 2 = 0;",
            f"ALTER TABLE {t} ALTER COLUMN status SET NOT NULL;",
            f"CREATE VIEW {t}_recent AS SELECT id, name FROM {t} WHERE status = 'new';",
            f"ALTER TABLE {t} RENAME COLUMN created_at TO inserted_at;",
        ]
    return "\n".join(out) + "\n"


class ProgressSink:
    """Stands in for the app's progress recorder: keeps every event, as the plan page needs them."""

    def __init__(self):
        self.events: list[dict] = []

    def __call__(self, event: dict) -> None:
        self.events.append(dict(event))


def run_psql(target: TargetConnection, path: str) -> float:
    started = time.perf_counter()
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", path],
                   env={**os.environ, **target.libpq_env()}, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def run_executor(target: TargetConnection, operations, *, digest: bool = True, caller_locks: bool = False) -> float:
    """``caller_locks``: as the app (migrations_app/execution.py ``_run_locked``) does: the
    caller takes the schemas' locks with its lock data, then hands them to the executor."""
    executor = AtomicMigrationExecutor(
        target, verify_digest=digest, search_path="public", application_name="dfbench-exec",
        lock_manager=MigrationLockManager(target, owner="bench_executor"))
    sink = ProgressSink()
    started = time.perf_counter()
    if caller_locks:
        schemas = sorted({op.schema for op in operations}
                         | {d.schema for op in operations for d in op.facts().destroyed})
        with ExitStack() as stack:
            locks = [stack.enter_context(executor.lock_manager.migration_lock(
                schema, timeout=executor.lock_wait_seconds, lock_data={"execution": 0})) for schema in schemas]
            result = executor.execute_atomic_migration(operations, progress=sink, lock=locks)
    else:
        result = executor.execute_atomic_migration(operations, progress=sink)
    elapsed = time.perf_counter() - started
    if not result.success:
        raise SystemExit(f"executor failed: {result.error_message}")
    if digest and not (result.digest_before and result.digest_after):
        raise SystemExit("executor ran without its schema digests")
    if sum(1 for e in sink.events if e["event"] == "statement_finished") != len(operations):
        raise SystemExit("the progress callback missed statements")
    return elapsed


class AppRun:
    """The app's own path, timed from the worker's side after the claim: ``build_executor`` and
    ``migrations_app.execution._run_locked`` on a real Execution row in a scratch app database --
    the schemas' migration locks, the executor's before/after digests, every progress write of
    ``ProgressRecorder`` (statement log, heartbeat, stop-flag reads) and the finish (result row,
    audit event, plan transition, alert). Only the gate re-check and the claim before it are left
    out: they touch the app database alone, and happen before the target is."""

    def __init__(self, server: TargetConnection, script: str):
        name = f"{PREFIX}app_{uuid.uuid4().hex[:8]}"
        with server.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.database = name
        self.server = server
        os.environ["DATABASE_URL"] = f"postgresql://{server.user}@{server.host}:{server.port}/{name}"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dataflow_site.settings")
        import django
        django.setup()
        from django.core.management import call_command
        call_command("migrate", verbosity=0)
        from django.contrib.auth import get_user_model
        self.user = get_user_model().objects.create(username="bench-dba")
        self.script = script
        self.finish_seconds: list[float] = []

    def prepare(self, target: TargetConnection):
        """The rows of one run (before any timing of the round): target, an EXECUTING plan with the
        200 operations, a RUNNING execution of it."""
        from migrations_app.models import MigrationPlan, PlanOperation, PlanStatus
        from migrations_app.execution_models import Execution
        from migrations_app.plan_sql import script_to_operations
        from migrations_app.workflow import compute_sql_hash
        from targets.models import TargetDatabase
        row = TargetDatabase.objects.create(name=target.dbname, host=target.host, port=target.port,
                                            dbname=target.dbname, user=target.user)
        plan = MigrationPlan.objects.create(author=self.user, target=row, title="bench", schema="public",
                                            status=PlanStatus.EXECUTING)
        ops = [PlanOperation(plan=plan, position=i + 1, **op)
               for i, op in enumerate(script_to_operations(self.script, "public"))]
        PlanOperation.objects.bulk_create(ops)
        plan.sql_hash = compute_sql_hash(ops)
        plan.save(update_fields=["sql_hash"])
        execution = Execution.objects.create(plan=plan, user=self.user, sql_hash=plan.sql_hash,
                                             status=Execution.Status.RUNNING)
        return execution

    def __call__(self, execution) -> float:
        from migrations_app import execution as app
        from migrations_app.plan_sql import plan_operations
        started = time.perf_counter()
        operations = plan_operations(execution.plan)
        executor = app.build_executor(execution)
        executor.start_connecting()  # as run_execution does
        schemas = sorted({op.schema for op in operations}
                         | {d.schema for op in operations for d in op.facts().destroyed})
        ran = []

        def run(locks, progress):
            result = executor.execute_atomic_migration(operations, progress=progress, lock=locks,
                                                       journal_key=execution.journal_key)
            ran.append(time.perf_counter())
            return result

        outcome = app._run_locked(execution, executor, schemas, run, operations=operations)
        elapsed = time.perf_counter() - started
        self.finish_seconds.append(elapsed - (ran[0] - started))
        execution.refresh_from_db()
        if outcome != "succeeded" or not (execution.digest_before and execution.digest_after):
            raise SystemExit(f"the app's execution did not succeed: {outcome} {execution.error}")
        if sum(1 for e in execution.statement_log if e["phase"] == "migration" and not e.get("error")
               and not e.get("not_run")) != len(operations):
            raise SystemExit("the app's statement log missed statements")
        return elapsed

    def close(self):
        from django.db import connections
        connections.close_all()
        with self.server.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.database)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rounds = max(MIN_ROUNDS, args.rounds)
    server = TargetConnection.from_dsn(args.dsn).for_database("postgres")
    script = migration_script()
    operations = operations_from_script(script)
    assert len(operations) == 200, len(operations)
    made: list[str] = []
    app = None

    def fresh() -> TargetConnection:
        name = f"{PREFIX}{uuid.uuid4().hex[:10]}"
        with server.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        made.append(name)
        target = server.for_database(name)
        # A target has had sessions before: the first backend on a new database writes its relcache
        # init file, and every later backend starts from it. Without this the side that opens more
        # sessions (the executor: lock, executing and digest sessions, concurrently) pays for building
        # it, which no real target does; psql opens one. Both sides get the same warmed database.
        # ... and has had executions before: the tool's journal and lock table exist there (the
        # first execution on a target creates them, about 4 ms once)
        with target.connect(autocommit=True) as conn:
            ensure_journal(conn)
            MigrationLockManager(target)._ensure_lock_table(conn)
        with target.connect(autocommit=True) as conn:  # a session after that DDL too: the init file is there
            conn.execute("SELECT 1")
        return target

    labels = {"psql": "psql -1 -f",
              "app": "the app: _run_locked, real progress writes and finish",
              "executor": "executor, caller's lock, digests, in-memory progress",
              "executor_own_lock": "executor taking the lock itself (digests, progress)",
              "executor_no_digest": "executor taking the lock, no digests"}
    timings: dict[str, list[float]] = {label: [] for label in labels}
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(script)
    try:
        app = AppRun(server, script)
        runs = {"psql": lambda target: run_psql(target, handle.name),
                "app": app,
                "executor": lambda target: run_executor(target, operations, caller_locks=True),
                "executor_own_lock": lambda target: run_executor(target, operations),
                "executor_no_digest": lambda target: run_executor(target, operations, digest=False)}
        for number in range(rounds):
            targets = {label: fresh() for label in runs}  # created before any timing of the round
            targets["app"] = app.prepare(targets["app"])
            order = list(runs) if number % 2 == 0 else list(reversed(runs))
            for label in order:
                forget_parsed_statements()  # each run parses as a worker seeing the plan first does
                timings[label].append(runs[label](targets[label]))
        manager = MigrationLockManager(server.for_database(made[-1]), owner="bench_executor")
        lock_ms = []
        for _ in range(20):
            started = time.perf_counter()
            with manager.migration_lock("public", timeout=5):
                pass
            lock_ms.append((time.perf_counter() - started) * 1000)
    finally:
        os.unlink(handle.name)
        if app is not None:
            app.close()
        with server.connect(autocommit=True) as conn:
            for name in made:
                if name.startswith(PREFIX):  # only what this run created
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    med = {label: statistics.median(values) * 1000 for label, values in timings.items()}
    per_round = [e / p for e, p in zip(timings["app"], timings["psql"])]
    print(f"statements: {len(operations)}, rounds: {rounds} (medians; fresh database per run)")
    for label, title in labels.items():
        ratio = "" if label == "psql" else f"  ratio {med[label] / med['psql']:.2f}"
        print(f"{title:60s} {med[label]:8.1f} ms{ratio}")
    print(f"  of which the finish (result row, audit, ledger entry with its schema snapshot, plan, alert): "
          f"{statistics.median(app.finish_seconds) * 1000:.1f} ms")
    print("per-round ratio, the app: " + " ".join(f"{r:.2f}" for r in per_round))
    print(f"lock acquire+release: {statistics.median(lock_ms):.1f} ms (median of 20)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
