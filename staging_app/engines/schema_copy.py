"""Schema copy with the PostgreSQL client programs.

One ``pg_dump --schema-only --format=custom --snapshot=<exported>`` reads the schema from the
same snapshot the rows come from; ``pg_restore --section=pre-data`` creates tables before the
load and ``--section=post-data`` adds indexes, constraints, foreign keys, triggers and policies
after it (two sessions in parallel), so every constraint is validated against the copied rows. Owners and grants are not
restored: the staging server's roles may differ from production's.

Credentials reach the programs through the environment (``TargetConnection.libpq_env``),
never argv. The bundled PostgreSQL 16 client programs are preferred: they can dump 15 and 16
servers, where a system pg_dump 15 refuses a 16 server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import psycopg

from staging_app.engines.catalog import query

OBJECT_KINDS = ("tables", "constraints", "foreign_keys", "indexes", "views", "materialized_views",
                "sequences", "triggers", "functions", "policies")


POST_DATA_JOBS = 2


class SchemaCopyError(RuntimeError):
    """pg_dump or pg_restore failed; the message carries their stderr (no secrets in it)."""


def client_program(name: str) -> str:
    try:
        from dataflow_site.embedded_pg import bin_dir

        candidate = bin_dir() / name
        if candidate.exists():
            return str(candidate)
    except Exception:  # pgserver missing or broken: fall back to PATH
        pass
    found = shutil.which(name)
    if not found:
        raise SchemaCopyError(f"{name} not found (neither the bundled PostgreSQL nor PATH has it)")
    return found


def _run(argv: list[str], connection, timeout: float) -> None:
    env = {**os.environ, **connection.libpq_env()}
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SchemaCopyError(f"{Path(argv[0]).name} did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise SchemaCopyError(f"{Path(argv[0]).name} failed: " + " | ".join(lines[-6:]))


def dump_schema(source, snapshot: str, path: Path, timeout: float = 600) -> None:
    """Dump the schema of ``source`` (a TargetConnection) as seen by ``snapshot`` into ``path``."""
    _run([client_program("pg_dump"), "--schema-only", "--format=custom", f"--snapshot={snapshot}",
          "--no-owner", "--no-privileges", f"--file={path}"], source, timeout)


def restore_section(staging, path: Path, section: str, timeout: float = 600) -> None:
    """Apply one section of the dump to the staging database, stopping at the first error.

    pre-data runs as one transaction. post-data (index builds, constraint validation) runs on
    ``POST_DATA_JOBS`` sessions instead, which cannot share a transaction: a failure there
    fails the replication, and the caller drops the whole copy anyway (measured 0.23 s ->
    0.15 s on demo_shop at 10%).
    """
    if section not in ("pre-data", "post-data"):
        raise ValueError(section)
    mode = ["--single-transaction"] if section == "pre-data" else [f"--jobs={POST_DATA_JOBS}"]
    _run([client_program("pg_restore"), f"--section={section}", *mode, "--exit-on-error",
          "--no-owner", "--no-privileges", f"--dbname={staging.dbname}", str(path)], staging, timeout)


def object_counts(conn: psycopg.Connection) -> dict[str, int]:
    row = conn.execute(query("stg_object_counts")).fetchone()
    return dict(zip(OBJECT_KINDS, (int(v) for v in row)))
