"""The analyzer against PostgreSQL itself on four real application schemas we did not design
(``tests/fixtures/real_schemas``: danbooru, lago-api, openstreetmap-website, Sourcegraph's
frontend). Each is loaded as far as PostgreSQL 15 takes it into a throwaway database; then,
as in ``test_oracle_drop_cascade``, for every table and a fixed sample of columns, what
DROP ... CASCADE removes and which routines stop working (every routine called, every trigger
fired, every PL/pgSQL and SQL body checked by PostgreSQL afterwards: ``oracle.py``) must equal
the analyzer's answer: 100% recall and precision for every type of dependent.

The columns: every column something in pg_depend depends on, up to a per-schema count, and a
fixed-seed sample of the others (only string bodies can use those), sized so the file runs in
well under a minute on two cores."""

import pytest

from migrations_app.engines.dependencies import DependencyAnalyzer
from tests.engines_deps import real_schemas
from tests.engines_deps.oracle import ask_postgresql, exercise, install_static_checks, score, snapshot

# per schema: (columns with a pg_depend dependent, other columns), both fixed-seed samples
SAMPLE = {
    "danbooru__danbooru": (100, 40),
    "getlago__lago-api": (120, 60),
    "openstreetmap__openstreetmap-website": (60, 40),
    "sourcegraph__artifacts__frontend": (80, 60),
}

# Where the analyzer and PostgreSQL still disagree, found by running the oracle on every table
# and every column of the four schemas, each with why. The test fails on any other
# disagreement, and on one of these that no longer happens (the list must shrink with fixes).
_SG = "sourcegraph__artifacts__frontend"
# Routines that write a table whose trigger runs a function the drop breaks (trigger_chains):
# they fail once the write touches a row, or runs at all, but the oracle's tables are empty, it
# calls routines with NULL arguments and fires triggers only by an UPDATE of their table, so it
# never sees these writes fire anything (tests/engines_deps/test_trigger_chains.py checks such
# chains against PostgreSQL on tables with rows)
_ROW_TRIGGER = ("extra", "it UPDATEs public.repo, setting deleted_at: the row-level trigger "
                "trig_delete_user_repo_permissions_on_repo_soft_delete runs a function that DELETEs from the "
                "dropped table; on the oracle's empty tables no row is updated, so no row trigger fires")
_EMPTY_LOOP = ("extra", "its UPDATE of public.repo (statement-level trigger recalc_repo_statistics_on_repo_update(), "
               "which the drop breaks) runs only while some repo has stars NULL, and repo.stars is NOT NULL: the "
               "path is unreachable, so this is a real false positive (the analyzer does not judge reachability; "
               "it reports a write that would fire a broken trigger, and says so in the reason)")
_DELETE_TRIGGER = ("extra", "a trigger function (AFTER DELETE ON batch_changes, for each row) that UPDATEs "
                   "public.changesets, whose row-level trigger runs changesets_computed_state_ensure(), which uses "
                   "the column: the oracle fires triggers only by an UPDATE of their table, on empty tables")
_SCOPE = ("extra", "an unqualified column in a subquery or CTE that reads another relation, in a statement that "
          "also names the target: PostgreSQL resolves it to the nearer relation; the analyzer, which does not "
          "know the other relation's columns, takes it for the target's")
_SOFT_DELETE = ("FUNCTION", "public", "soft_delete_orphan_repo_by_external_service_repos()", None)
KNOWN = {
    _SG: {
        (("public", "user_repo_permissions", None), _SOFT_DELETE): _ROW_TRIGGER,
        **{(("public", table, column), ("PROCEDURE", "public", "set_repo_stars_null_to_zero()", None)): _EMPTY_LOOP
           for table, column in [("gitserver_repos", None), ("repo_statistics", None), ("repo_statistics", "total"),
                                 ("repo_statistics", "cloning"), ("repo_statistics", "cloned")]},
        (("public", "changesets", "reconciler_state"),
         ("FUNCTION", "public", "delete_batch_change_reference_on_changesets()", None)): _DELETE_TRIGGER,
        (("public", "configuration_policies_audit_logs", "id"),
         ("FUNCTION", "public", "func_configuration_policies_delete()", None)): _SCOPE,
        (("public", "lsif_configuration_policies", "id"),
         ("FUNCTION", "public", "func_configuration_policies_delete()", None)): _SCOPE,
        (("public", "gitserver_repos", "tenant_id"),
         ("FUNCTION", "public", "recalc_repo_statistics_on_repo_update()", None)): _SCOPE,
        (("public", "own_aggregate_recent_contribution", "id"),
         ("FUNCTION", "public", "update_own_aggregate_recent_contribution()", None)): _SCOPE,
    },
}
# contrib extensions the dumps create: without them most tables do not load
NEEDS = ("btree_gin", "citext", "hstore", "intarray", "pg_trgm", "pgcrypto")


@pytest.fixture(scope="module", params=real_schemas.SCHEMAS)
def real_target(request):
    with real_schemas.loaded(request.param) as (target, failures):
        yield request.param, target, failures


def _server_has_what_the_dumps_need(target) -> list[str]:
    with target.connect() as conn:
        have = {row[0] for row in conn.execute("SELECT name FROM pg_available_extensions")}
    return [name for name in NEEDS + ("plpgsql_check",) if name not in have]


def test_real_schema_matches_what_postgresql_drops_and_breaks(real_target, capsys):
    name, target, load_failures = real_target
    missing = _server_has_what_the_dumps_need(target)
    if missing:
        pytest.skip(f"the server lacks {', '.join(missing)} (Debian's postgresql-contrib and "
                    "postgresql-15-plpgsql-check; `make test` installs them where it can)")
    assert install_static_checks(target)
    with target.connect() as conn:
        baseline = exercise(conn, snapshot(conn))
        with_dependents, others = SAMPLE[name]
        subjects = [(s, t, None) for s, t in real_schemas.tables(conn)]
        subjects += real_schemas.column_sample(conn, with_dependents, others)
        analyzer = DependencyAnalyzer(conn)
        reports = {(s, t, c): analyzer.analyze_table_dependencies(t, s) if c is None
                   else analyzer.analyze_column_dependencies(t, c, s) for s, t, c in subjects}
        conn.rollback()
    assert len(subjects) > 100, "the schema hardly loaded: " + "; ".join(load_failures[:5])
    # one subject at a time: two drops at once on one database wait on (or deadlock over) each other's locks
    answers = {subject: ask_postgresql(target, *subject, baseline) for subject in subjects}
    result = score(subjects, answers, reports)
    misses, extras, expected, refusals = result.misses, result.extras, result.expected, result.refusals
    lines = [f"{name}: {len(load_failures)} statements of the dump refused by this server", *result.table_lines()]
    tables = sum(1 for s in subjects if s[2] is None)
    lines.append(f"{len(subjects)} subjects ({tables} tables, {len(subjects) - tables} columns; {refusals} refused "
                 f"by PostgreSQL), {sum(expected.values())} dependents found by PostgreSQL")
    table = "\n".join(lines)
    known = KNOWN.get(name, {})
    seen = {(subject, item): "missed" for subject, item in misses} | {(subject, item): "extra" for subject, item in extras}
    unexplained = {pair: how for pair, how in seen.items() if known.get(pair, ("",))[0] != how}
    stale = [pair for pair in known if pair[0] in answers and pair not in seen]
    with capsys.disabled():
        print("\n" + table)
        for (subject, item), how in sorted(seen.items(), key=str):
            print(f"{how:6} {subject} {item}" + (f"  [known: {known[(subject, item)][1]}]" if (subject, item) in known
                                                  and (subject, item) not in unexplained else ""))
    assert not unexplained, (table, "unexplained disagreements:", list(unexplained.items())[:20])
    assert not stale, ("known disagreements that no longer happen (take them off KNOWN):", stale)
    assert sum(expected.values()) > 100
