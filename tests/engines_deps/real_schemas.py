"""Real application schemas (``tests/fixtures/real_schemas``), loaded as far as PostgreSQL 15 takes them.

The dumps are upstream files kept verbatim; some statements need what this server may lack
(PostGIS, pg_partman, a custom GUC that row-level-security data rows read). Each statement
runs on its own, as ``psql -f`` without ON_ERROR_STOP would run it: what fails is left out
and returned, everything else loads.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pglast
import psycopg

from tests import pg

DIR = Path(__file__).resolve().parent.parent / "fixtures" / "real_schemas"
SCHEMAS = sorted(path.stem for path in DIR.glob("*.sql"))

USER_SCHEMAS = """n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"""


def load(target, name: str) -> list[str]:
    """Run every statement of the dump on ``target`` (one session, autocommit); the first
    line of each error, for the statements that failed."""
    text = (DIR / f"{name}.sql").read_text()
    failures = []
    with target.connect(autocommit=True) as conn:
        for statement in pglast.split(text, with_parser=False):
            try:
                conn.execute(statement.encode("utf-8"), prepare=False)
            except psycopg.Error as exc:
                code = " ".join(line for line in statement.splitlines() if line.strip() and not line.startswith("--"))
                failures.append(f"{(exc.diag.message_primary or str(exc)).splitlines()[0]}: {code[:80]}")
    return failures


@contextmanager
def loaded(name: str) -> Iterator[tuple[object, list[str]]]:
    with pg.throwaway_database() as target:
        yield target, load(target, name)


def tables(conn) -> list[tuple[str, str]]:
    return conn.execute(f"""
        SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND {USER_SCHEMAS} ORDER BY 1, 2""").fetchall()


def columns(conn) -> list[tuple[str, str, str, bool]]:
    """Every column of every table, and whether anything in pg_depend depends on it."""
    return conn.execute(f"""
        SELECT n.nspname, c.relname, a.attname,
               EXISTS (SELECT 1 FROM pg_depend d WHERE d.refclassid = 'pg_class'::regclass
                         AND d.refobjid = c.oid AND d.refobjsubid = a.attnum)
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND {USER_SCHEMAS}
        ORDER BY 1, 2, a.attnum""").fetchall()


def column_sample(conn, with_dependents: int, others: int, seed: int = 20240607) -> list[tuple[str, str, str]]:
    """A fixed-seed sample of ``with_dependents`` columns that something in pg_depend depends
    on, and of ``others`` of the rest (which only string bodies can use)."""
    rows = columns(conn)
    chosen = random.Random(seed).sample([(s, t, c) for s, t, c, has in rows if has],
                                        min(with_dependents, sum(1 for *_, has in rows if has)))
    chosen += random.Random(seed + 1).sample([(s, t, c) for s, t, c, has in rows if not has],
                                             min(others, sum(1 for *_, has in rows if not has)))
    return sorted(chosen)
