"""Live catalog facts for a whole plan, read in a constant number of queries (six, one more
for the second write sample when the plan touches tables, one more when it drops indexes,
constraints, views, routines, triggers or policies, one more when it names new indexes or
constraints: whether those names are taken).

Tables, columns, foreign keys, lock activity and function volatility are
fetched once for every object the plan touches, whatever the number of statements; the
definitions of the objects it drops (for their rollback) in one more query, whatever their
number and kinds. Write rates are measured, not inferred from counters since the statistics
reset: the counters are read twice ``Thresholds.write_sample_seconds`` apart. Any
catalog error raises ``CatalogFactsError``: the analysis never reports "no findings" because
the catalog could not be read.

psycopg is imported by the functions that read a connection: a static analysis (``lint_cli``
without ``--dsn``) uses ``Thresholds`` and ``CatalogFacts`` only and never loads it.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterable

from migrations_app.engines.catalog import query


class CatalogFactsError(Exception):
    """The target catalog could not be read; the analysis cannot use live facts."""


@dataclass
class Thresholds:
    """Size and time limits for the database-aware rules (configurable per analysis)."""

    large_table_rows: int = 1_000_000
    large_table_bytes: int = 1024 ** 3            # 1 GiB
    rewrite_bytes_per_second: float = 100 * 1024 ** 2   # sequential rewrite with index rebuilds
    scan_bytes_per_second: float = 400 * 1024 ** 2
    long_transaction_seconds: float = 60.0
    high_write_rate_per_second: float = 50.0
    # interval between the two reads of the write counters; 0: the rate is not measured.
    # PostgreSQL publishes a backend's counters about once a second, so shorter is noise.
    write_sample_seconds: float = 2.0


@dataclass
class TableFacts:
    schema: str
    table: str
    oid: int
    relkind: str
    rows: int
    total_bytes: int
    heap_bytes: int
    index_count: int
    # measured over ``write_sample_seconds``; None when not sampled
    writes_per_second: float | None = None
    writes_sampled: int | None = None
    write_sample_seconds: float | None = None
    writes_counter: int = 0

    def describe_write_rate(self) -> str | None:
        if self.writes_per_second is None:
            return None
        return (f"{self.writes_sampled} row writes committed in the {self.write_sample_seconds:.1f} s between two "
                f"samples of pg_stat_user_tables (about {self.writes_per_second:.0f}/s)")

    def describe_size(self) -> str:
        return f"{self.schema}.{self.table} has {format_count(self.rows)} rows, {format_bytes(self.total_bytes)}"


@dataclass
class CatalogFacts:
    server_version_num: int
    tables: dict[tuple[str, str], TableFacts] = field(default_factory=dict)
    columns: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    foreign_keys: list[dict] = field(default_factory=list)
    lock_activity: dict[int, list[dict]] = field(default_factory=dict)
    volatility: dict[str, str] = field(default_factory=dict)
    # user functions the plan calls (schema, name, language, source, definition): the policy judges them
    user_functions: list[dict] = field(default_factory=list)
    # rollback.catalog.definition_key -> matches; a key absent was not read
    definitions: dict[str, list[dict]] = field(default_factory=dict)
    # (kind, schema, table or "", name) -> {"taken_by": relkind or contype, "owner_table": ...};
    # a request absent from it was read and is free; None: no names were asked for
    names_taken: dict[tuple, dict] | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    queries_run: int = 0

    def table(self, schema: str | None, table: str | None) -> TableFacts | None:
        return self.tables.get((schema or "public", table or ""))

    def column(self, schema: str | None, table: str | None, column: str | None) -> dict | None:
        for col in self.columns.get((schema or "public", table or ""), []):
            if col["column_name"] == column:
                return col
        return None

    def fks_referencing(self, schema: str, table: str) -> list[dict]:
        return [fk for fk in self.foreign_keys if (fk["ref_schema"], fk["ref_table"]) == (schema, table)]

    def fks_of(self, schema: str, table: str) -> list[dict]:
        return [fk for fk in self.foreign_keys if (fk["schema_name"], fk["table_name"]) == (schema, table)]

    def is_large(self, facts: TableFacts | None) -> bool:
        return bool(facts) and (facts.rows >= self.thresholds.large_table_rows
                                or facts.total_bytes >= self.thresholds.large_table_bytes)

    def long_transactions(self, schema: str, table: str) -> list[dict]:
        facts = self.table(schema, table)
        if not facts:
            return []
        limit = self.thresholds.long_transaction_seconds
        return [a for a in self.lock_activity.get(facts.oid, []) if (a.get("xact_age_s") or 0) >= limit]

    def to_dict(self) -> dict:
        return {
            "server_version_num": self.server_version_num,
            "tables": {f"{k[0]}.{k[1]}": vars(v) for k, v in self.tables.items()},
            "foreign_keys": [{k: v for k, v in fk.items()} for fk in self.foreign_keys],
            "queries_run": self.queries_run,
        }


@contextmanager
def open_catalog(connection):
    """Yield a psycopg connection from a ``TargetConnection`` (a read-only session from this
    process' pool, reset when it goes back: ``targets.engines.pool``) or pass one through."""
    from targets.engines.connections import TargetConnection  # psycopg: only when there is a database
    from targets.engines.pool import pooled_read_only

    if isinstance(connection, TargetConnection):
        with pooled_read_only(connection) as conn:
            yield conn
    else:
        yield connection


def fetch_catalog_facts(conn: psycopg.Connection, targets: Iterable[tuple[str, str]], *,
                        function_names: Iterable[str] = (),
                        thresholds: Thresholds | None = None, definitions: Iterable[dict] = (),
                        names: Iterable[tuple[str, str, str, str]] = ()) -> CatalogFacts:
    """Read everything the plan's rules need about ``targets`` ((schema, table) pairs).
    ``definitions``: ``rollback.catalog.definition_requests`` of the plan's DROP statements.
    ``names``: (kind, schema, table or "", name) the plan's new indexes and constraints take
    (``lint.name_already_exists.name_requests``), checked in one query whatever their number."""
    import psycopg
    from psycopg.rows import dict_row
    targets = sorted(set(targets))
    thresholds = thresholds or Thresholds()
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query("risk_server"))
            server = cur.fetchone()
            facts = CatalogFacts(server_version_num=int(server["server_version_num"]),
                                 thresholds=thresholds, queries_run=1)
            cur.execute(query("risk_table_facts"), {"schemas": [t[0] for t in targets], "tables": [t[1] for t in targets]})
            first_sample_at, first_sample_clock = None, time.monotonic()
            for row in cur.fetchall():
                rows = int(row["reltuples"]) if row["reltuples"] is not None and row["reltuples"] >= 0 \
                    else int(row["n_live_tup"] or 0)
                facts.tables[(row["schema_name"], row["table_name"])] = TableFacts(
                    schema=row["schema_name"], table=row["table_name"], oid=int(row["oid"]), relkind=row["relkind"],
                    rows=rows, total_bytes=int(row["total_bytes"] or 0), heap_bytes=int(row["heap_bytes"] or 0),
                    index_count=int(row["index_count"]), writes_counter=int(row["writes"] or 0))
                first_sample_at = row["sampled_at"]
            oids = [t.oid for t in facts.tables.values()]
            cur.execute(query("risk_columns"), {"oids": oids})
            for row in cur.fetchall():
                facts.columns.setdefault((row["schema_name"], row["table_name"]), []).append(row)
            cur.execute(query("risk_foreign_keys"), {"oids": oids})
            facts.foreign_keys = cur.fetchall()
            cur.execute(query("risk_lock_activity"), {"oids": oids})
            for row in cur.fetchall():
                facts.lock_activity.setdefault(int(row["oid"]), []).append(row)
            cur.execute(query("risk_function_volatility"), {"names": sorted({n.lower() for n in function_names})})
            for row in cur.fetchall():
                name = row["function_name"]
                facts.volatility[name] = max(facts.volatility.get(name, "i"), row["volatility"])
                if row["definition"]:
                    facts.user_functions.append(row)
            facts.queries_run = 6
            if first_sample_at is not None and thresholds.write_sample_seconds > 0:
                time.sleep(max(0.0, thresholds.write_sample_seconds - (time.monotonic() - first_sample_clock)))
                _sample_write_rates(cur, facts, first_sample_at)
        requests = list(definitions)
        if requests:
            facts.definitions = fetch_definitions(conn, requests)
            facts.queries_run += 1
        wanted = sorted(set(names))
        if wanted:
            facts.names_taken = _names_taken(conn, wanted)
            facts.queries_run += 1
    except psycopg.Error as exc:
        raise CatalogFactsError(f"cannot read the target catalog: {str(exc).strip().splitlines()[0]}") from exc
    return facts


def _names_taken(conn, wanted: list[tuple[str, str, str, str]]) -> dict[tuple, dict]:
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query("risk_names_taken"), {"kinds": [w[0] for w in wanted], "schemas": [w[1] for w in wanted],
                                                "tables": [w[2] for w in wanted], "names": [w[3] for w in wanted]})
        return {(row["kind"], row["schema_name"], row["table_name"], row["name"]):
                {"taken_by": row["taken_by"], "owner_table": row["owner_table"]} for row in cur.fetchall()}


def _sample_write_rates(cur, facts: CatalogFacts, first_sample_at) -> None:
    """Read the write counters again and turn the difference into a rate over the measured interval."""
    if facts.server_version_num < 150000 and not cur.connection.autocommit:
        cur.execute(query("risk_clear_stats_snapshot"))
        facts.queries_run += 1
    cur.execute(query("risk_write_sample"), {"oids": [t.oid for t in facts.tables.values()]})
    facts.queries_run += 1
    second = {int(row["oid"]): row for row in cur.fetchall()}
    for table in facts.tables.values():
        row = second.get(table.oid)
        if row is None:  # a view or a table without statistics: nothing measured
            continue
        seconds = (row["sampled_at"] - first_sample_at).total_seconds()
        # a statistics reset between the samples makes the difference negative: not a rate
        writes = int(row["writes"] or 0) - table.writes_counter
        if seconds > 0 and writes >= 0:
            table.writes_sampled, table.write_sample_seconds = writes, seconds
            table.writes_per_second = writes / seconds


def fetch_definitions(conn: psycopg.Connection, requests: list[dict]) -> dict[str, list[dict]]:
    """``{key: [match, ...]}`` for every request (an empty list: not in the catalog). One query.
    Raises ``psycopg.Error`` when the catalog cannot be read."""
    found: dict[str, list[dict]] = {r["key"]: [] for r in requests}
    if not requests:
        return found
    from psycopg.rows import dict_row
    from psycopg.types.json import Jsonb

    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query("rollback_definitions"), {"wanted": Jsonb(requests)})
        row = cur.fetchone()
    for item in row["definitions"] or []:
        found.setdefault(item["key"], []).append(item["found"])
    return found


def format_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def format_count(n: float) -> str:
    if n >= 1_000_000_000:
        return f"{n / 1e9:.1f}G"
    if n >= 1_000_000:
        return f"{n / 1e6:.1f}M"
    if n >= 10_000:
        return f"{n / 1e3:.0f}k"
    return f"{int(n)}"


def format_seconds(s: float) -> str:
    if s < 1:
        return "under 1 s"
    if s < 120:
        return f"about {s:.0f} s"
    if s < 7200:
        return f"about {s / 60:.0f} min"
    return f"about {s / 3600:.1f} h"
