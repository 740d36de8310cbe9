"""PostgreSQL's own answer to "what depends on this table / column?".

For a subject, in a fresh session: the catalog before, ``DROP ... CASCADE`` in a transaction
that is rolled back, the catalog inside it (what vanished), the ``drop cascades to`` notices,
and a call of every remaining routine (and a firing of every remaining trigger) to find what
PostgreSQL does not track but breaks. Vanished objects are named the way the analyzer names
them; parts of something else that vanished (a dropped view's rule, an index implementing a
constraint, a partition's copy of its parent's key, a dropped table's triggers) are folded into it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

USER_SCHEMAS = """n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'"""

SNAPSHOT = {
    "relation": f"""SELECT c.oid, c.relkind::text, n.nspname, c.relname, c.relispartition,
                          (SELECT array_agg(i.inhparent) FROM pg_inherits i WHERE i.inhrelid = c.oid)
                   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER_SCHEMAS}""",
    "column": f"""SELECT (a.attrelid, a.attnum)::text, a.attrelid, a.attnum, a.attname, a.attgenerated <> '', a.attinhcount
                 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f', 'c', 'v', 'm')
                   AND {USER_SCHEMAS}""",
    "constraint": """SELECT con.oid, con.contype::text, n.nspname, con.conname, con.conrelid, con.conparentid,
                            con.contypid, con.conindid
                     FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
                     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')""",
    "trigger": "SELECT t.oid, t.tgname, t.tgrelid, t.tgparentid FROM pg_trigger t WHERE NOT t.tgisinternal",
    "policy": "SELECT p.oid, p.polname, p.polrelid FROM pg_policy p",
    "rule": "SELECT r.oid, r.rulename, r.ev_class FROM pg_rewrite r WHERE r.rulename <> '_RETURN' AND r.oid >= 16384",
    "default": "SELECT d.oid, d.adrelid, d.adnum FROM pg_attrdef d",
    "statistics": "SELECT s.oid, n.nspname, s.stxname, s.stxrelid FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace",
    "publication": "SELECT pr.oid, p.pubname, pr.prrelid FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid",
    "routine": f"""SELECT p.oid, n.nspname, format('%%s(%%s)', p.proname, pg_get_function_identity_arguments(p.oid)),
                          p.prokind::text, p.prorettype = 'trigger'::regtype,
                          format('%%I.%%I', n.nspname, p.proname),
                          (SELECT coalesce(array_agg(format_type(t, NULL) ORDER BY o), '{{}}')
                             FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, o))
                   FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                   WHERE p.oid >= 16384 AND {USER_SCHEMAS}
                     AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass
                                     AND e.objid = p.oid AND e.deptype = 'e')""",
    "domain": f"""SELECT t.oid, n.nspname, t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE t.typtype = 'd' AND {USER_SCHEMAS}""",
    # every table with user triggers, the columns an UPDATE can set (to fire UPDATE OF
    # triggers too), and the trigger functions it fires
    "trigger_table": f"""SELECT format('%%I.%%I', n.nspname, c.relname), c.oid,
                                (SELECT string_agg(format('%%I', a.attname), ', ' ORDER BY a.attnum)
                                   FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                                    AND NOT a.attisdropped AND a.attgenerated = '' AND a.attidentity = ''),
                                array_agg(ARRAY[t.tgname::text, t.tgfoid::text])
                        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                        JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE NOT t.tgisinternal AND c.relkind IN ('r', 'p') AND {USER_SCHEMAS}
                        GROUP BY n.nspname, c.relname, c.oid""",
    # objects of every other catalog that pg_depend knows, named as PostgreSQL describes them
    "other": """SELECT DISTINCT format('%%s:%%s', d.classid, d.objid), pg_describe_object(d.classid, d.objid, 0)
                FROM pg_depend d
                WHERE d.objid >= 16384 AND d.deptype <> 'e' AND d.classid NOT IN (
                    'pg_class'::regclass, 'pg_constraint'::regclass, 'pg_trigger'::regclass, 'pg_policy'::regclass,
                    'pg_rewrite'::regclass, 'pg_attrdef'::regclass, 'pg_statistic_ext'::regclass,
                    'pg_publication_rel'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass,
                    'pg_namespace'::regclass, 'pg_extension'::regclass, 'pg_publication'::regclass)
                  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = d.classid AND e.objid = d.objid
                                  AND e.deptype = 'e')""",
    "index_table": "SELECT i.indexrelid, i.indrelid FROM pg_index i WHERE i.indexrelid >= 16384",
}


@dataclass
class OracleAnswer:
    refused: str | None = None
    dependents: set[tuple] = field(default_factory=set)
    notices: list[str] = field(default_factory=list)
    broken_routines: set[tuple] = field(default_factory=set)


def snapshot(conn) -> dict[str, dict]:
    out = {}
    for name, text in SNAPSHOT.items():
        out[name] = {row[0]: row for row in conn.execute(text.replace("%%", "%")).fetchall()}
    return out


def exercise(conn, snap, static: bool = True) -> dict[int, set]:
    """How each routine fails, by OID: when called with NULL arguments (trigger functions:
    when an UPDATE fires the triggers of their table, one trigger at a time) and, with
    ``static`` (where plpgsql_check is installed, see ``install_static_checks``), what
    PostgreSQL's own checks of every statement of the body report (see ``PROBE``). Every
    probe runs in its own subtransaction, all of them in one round trip. A routine is broken
    by a drop when it fails in a way it did not fail before."""
    calls: list[tuple[int, list[str]]] = []
    for oid, row in snap["routine"].items():
        _, schema, _, prokind, is_trigger, qualified, argtypes = row
        if is_trigger:
            continue
        args = sql.SQL(", ").join(sql.SQL("NULL::{}").format(sql.SQL(t)) for t in argtypes)
        call = sql.SQL("CALL {}({})" if prokind == "p" else "SELECT {}({})").format(sql.SQL(qualified), args)
        calls.append((oid, [call.as_string(conn)]))
    for table, relid, columns, pairs in snap["trigger_table"].values():
        if not columns:
            continue
        triggers = [(name, int(foid)) for name, foid in pairs]
        update = sql.SQL("UPDATE {} SET ({}) = ROW({})").format(sql.SQL(table), sql.SQL(columns), sql.SQL(columns))
        for tgname, tgfoid in triggers:
            # one trigger at a time (the others disabled inside the probe): a failure names its function
            steps = [sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(sql.SQL(table), sql.Identifier(other))
                     for other, _ in triggers if other != tgname]
            calls.append((tgfoid, [step.as_string(conn) for step in steps] + [update.as_string(conn)]))
    notices: list[str] = []

    def collect(diag):
        if (diag.message_primary or "").startswith("oracle-probe:"):
            notices.append(diag.message_primary.split(":", 1)[1])

    conn.add_notice_handler(collect)
    try:
        checker = static_checker(conn) if static else None
        conn.execute(sql.SQL(PROBE).format(calls=sql.Literal(json.dumps(calls)), static=sql.Literal(checker is not None),
                                           checker=sql.Literal(checker or "")))
    finally:
        conn.remove_notice_handler(collect)
    failures: dict[int, set] = {}
    for oid, how in json.loads(notices[-1]):
        failures.setdefault(int(oid), set()).add(json.dumps(how))
    return failures


# One DO block: each probe in its own subtransaction (an exception block), always rolled
# back (a probe that succeeds raises oracle-ok); the failures come back as one notice.
# A failed call or firing counts once per routine, whatever its message; a static check
# counts each error it reports (statement, line, message):
# - PL/pgSQL: plpgsql_check checks every embedded statement and expression, on every path,
#   with PostgreSQL's own parser and analyser (a call with NULLs runs one path); a trigger
#   function is checked against each table whose triggers still run it (NEW, OLD and the
#   transition tables typed as they are there);
# - SQL: the language's own validator parses and analyses every statement of the body (a
#   STRICT function called with NULLs never runs it).
PROBE = r"""DO $oracle$
DECLARE
    probe jsonb;
    step text;
    failed jsonb := '[]';
    fn record;
    err record;
BEGIN
    FOR probe IN SELECT jsonb_array_elements({calls}::jsonb) LOOP
        BEGIN
            FOR step IN SELECT jsonb_array_elements_text(probe->1) LOOP
                EXECUTE step;
            END LOOP;
            RAISE EXCEPTION 'oracle-ok';
        EXCEPTION WHEN OTHERS THEN
            IF SQLERRM <> 'oracle-ok' THEN
                failed := failed || jsonb_build_array(jsonb_build_array(probe->0, jsonb_build_array('run')));
            END IF;
        END;
    END LOOP;
    IF {static} THEN
        SET LOCAL check_function_bodies = on;
        FOR fn IN SELECT p.oid, l.lanname, t.tgrelid, t.tgoldtable, t.tgnewtable
                  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
                  LEFT JOIN (SELECT DISTINCT tgfoid, tgrelid, tgoldtable::text, tgnewtable::text FROM pg_trigger
                             WHERE NOT tgisinternal) t ON t.tgfoid = p.oid
                  WHERE p.oid >= 16384 AND l.lanname IN ('plpgsql', 'sql') AND p.prokind IN ('f', 'p')
                    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
                    AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass
                                    AND e.objid = p.oid AND e.deptype = 'e')
                    AND (p.prorettype <> 'trigger'::regtype OR t.tgrelid IS NOT NULL) LOOP
            BEGIN
                IF fn.lanname = 'sql' THEN
                    PERFORM fmgr_sql_validator(fn.oid);
                ELSE
                    FOR err IN EXECUTE 'SELECT lineno, statement, sqlstate, message
                                        FROM ' || {checker} || '($1, coalesce($2, 0),
                                             fatal_errors => false, other_warnings => false,
                                             extra_warnings => false, oldtable => $3, newtable => $4)
                                        WHERE level = ''error'''
                               USING fn.oid, fn.tgrelid, fn.tgoldtable, fn.tgnewtable LOOP
                        failed := failed || jsonb_build_array(jsonb_build_array(fn.oid, jsonb_build_array(
                            'check', fn.tgrelid, err.lineno, err.statement, err.sqlstate, err.message)));
                    END LOOP;
                END IF;
                RAISE EXCEPTION 'oracle-ok';
            EXCEPTION WHEN OTHERS THEN
                IF SQLERRM <> 'oracle-ok' THEN
                    failed := failed || jsonb_build_array(jsonb_build_array(fn.oid, jsonb_build_array(
                        'check', fn.tgrelid, SQLSTATE, SQLERRM)));
                END IF;
            END;
        END LOOP;
    END IF;
    RAISE NOTICE 'oracle-probe:%', failed;
END
$oracle$"""


def static_checker(conn) -> str | None:
    """plpgsql_check's table function, schema-qualified, where the extension is installed."""
    row = conn.execute("""SELECT format('%I.plpgsql_check_function_tb', n.nspname) FROM pg_extension e
                          JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'plpgsql_check'""").fetchone()
    return row[0] if row else None


def install_static_checks(target) -> bool:
    """Install plpgsql_check in a schema of its own where the server has it; whether it is there.
    (Its objects are an extension's members: neither the oracle nor the analyzer looks at them.)"""
    with target.connect(autocommit=True) as conn:
        if conn.execute("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'plpgsql_check')"
                        ).fetchone()[0]:
            conn.execute("CREATE SCHEMA IF NOT EXISTS oracle_checks")
            conn.execute("CREATE EXTENSION IF NOT EXISTS plpgsql_check SCHEMA oracle_checks")
        return static_checker(conn) is not None


# The catalog before any drop, per database: every subject's drop is rolled back, so it is
# the same for all of them (read once, in the first subject's fresh session).
_BEFORE: dict[tuple, dict] = {}


def ask_postgresql(target, schema: str, table: str, column: str | None,
                   baseline_failures: dict[int, set]) -> OracleAnswer:
    """``baseline_failures``: ``exercise`` before any drop (how routines fail anyway)."""
    answer = OracleAnswer()
    with target.connect() as conn:  # a fresh session: nothing compiled or cached from earlier subjects
        conn.add_notice_handler(lambda diag: answer.notices.extend(
            line.strip() for line in ((diag.message_primary or "") + "\n" + (diag.message_detail or "")).splitlines()
            if line.strip().startswith("drop cascades to")))
        key = (target.host, target.port, target.dbname)
        before = _BEFORE.get(key)
        if before is None:
            before = _BEFORE[key] = snapshot(conn)
        conn.execute("SAVEPOINT subject")
        if column is None:
            drop = sql.SQL("DROP TABLE {} CASCADE").format(sql.Identifier(schema, table))
        else:
            drop = sql.SQL("ALTER TABLE {} DROP COLUMN {} CASCADE").format(sql.Identifier(schema, table),
                                                                        sql.Identifier(column))
        try:
            conn.execute(drop)
        except psycopg.Error as exc:
            answer.refused = exc.diag.message_primary
            conn.rollback()
            return answer
        after = snapshot(conn)
        failures = exercise(conn, after)
        conn.rollback()
    broken = {oid for oid, how in failures.items() if how - baseline_failures.get(oid, set())}
    subject_relid = next(oid for oid, row in before["relation"].items() if (row[2], row[3]) == (schema, table))
    answer.dependents = _name_vanished(before, after, subject_relid, column)
    for oid in broken:
        _, routine_schema, name, prokind, *_ = before["routine"][oid]
        answer.broken_routines.add(("PROCEDURE" if prokind == "p" else "FUNCTION", routine_schema, name, None))
    answer.dependents |= answer.broken_routines
    return answer


def _name_vanished(before, after, subject_relid, column) -> set[tuple]:
    gone = {kind: {oid: row for oid, row in rows.items() if oid not in after[kind]} for kind, rows in before.items()}
    relations = before["relation"]
    gone_rel = set(gone["relation"]) - {subject_relid}

    def rel(oid):
        row = relations[oid]
        return row[2], row[3]

    def folded(relid) -> bool:  # a part of another relation that goes whole
        return relid in gone_rel

    found = set()
    for oid, (_, relkind, schema, name, is_partition, parents) in gone["relation"].items():
        if oid == subject_relid:
            continue
        if relkind in ("v", "m"):
            found.add(("MATERIALIZED_VIEW" if relkind == "m" else "VIEW", schema, name, name))
        elif relkind in ("r", "p", "f"):
            found.add(("PARTITION" if is_partition else "CHILD_TABLE", schema, name, name))
        elif relkind == "S":
            found.add(("SEQUENCE", schema, name, None))
        elif relkind in ("i", "I"):
            index_table = _index_table(before, oid)
            # a key's own index (a foreign key's conindid is the referenced table's index: not its own)
            implements = any(c[7] == oid and c[1] != "f" for c in gone["constraint"].values())
            partition_copy = any(p in gone["relation"] for p in (parents or []))
            if not implements and not partition_copy and not folded(index_table):
                found.add(("INDEX", schema, name, rel(index_table)[1]))
    target_column = None
    for key, (_, relid, attnum, attname, generated, inhcount) in gone["column"].items():
        if relid == subject_relid and (column is None or attname == column):
            target_column = (relid, attnum)
            continue
        if folded(relid):
            continue
        schema, name = rel(relid)
        kind = ("TYPE_ATTRIBUTE" if relations[relid][1] == "c" else "GENERATED_COLUMN" if generated
                else "INHERITED_COLUMN" if inhcount and column is not None and attname == column else "COLUMN")
        if kind == "GENERATED_COLUMN" and inhcount and column is not None and attname == column:
            kind = "INHERITED_COLUMN"
        found.add((kind, schema, f"{name}.{attname}", name))
    gone_columns = {(row[1], row[2]) for row in gone["column"].values()}
    for oid, (_, contype, schema, name, relid, parentid, typid, _) in gone["constraint"].items():
        if parentid in gone["constraint"] or folded(relid) or (typid and typid in gone["domain"]):
            continue
        kind = {"p": "PRIMARY_KEY", "u": "UNIQUE_CONSTRAINT", "c": "CHECK_CONSTRAINT", "x": "EXCLUSION_CONSTRAINT",
                "f": "FOREIGN_KEY", "t": "TRIGGER"}[contype]
        table = rel(relid)[1] if relid else before["domain"][typid][2]
        found.add((kind, schema, name, table))
    for oid, (_, tgname, relid, parentid) in gone["trigger"].items():
        if relid != subject_relid and (folded(relid) or parentid in gone["trigger"]):
            continue
        found.add(("TRIGGER", rel(relid)[0], tgname, rel(relid)[1]))
    for kind, rows in (("POLICY", gone["policy"]), ("RULE", gone["rule"])):
        for oid, (_, name, relid) in rows.items():
            if not folded(relid):
                found.add((kind, rel(relid)[0], name, rel(relid)[1]))
    for oid, (_, relid, adnum) in gone["default"].items():
        own = relid == subject_relid
        if folded(relid) or (not own and (relid, adnum) in gone_columns) or \
                (own and column is not None and (relid, adnum) != target_column):
            continue
        attname = before["column"][f"({relid},{adnum})"][3]
        found.add(("DEFAULT", rel(relid)[0], f"{rel(relid)[1]}.{attname}", rel(relid)[1]))
    for oid, (_, schema, name, relid) in gone["statistics"].items():
        if not folded(relid):
            found.add(("STATISTICS", schema, name, rel(relid)[1]))
    for oid, (_, pubname, relid) in gone["publication"].items():
        if not folded(relid):
            found.add(("PUBLICATION", pubname, pubname, rel(relid)[1]))
    for oid, (_, schema, name, prokind, *_) in gone["routine"].items():
        found.add(("PROCEDURE" if prokind == "p" else "FUNCTION", schema, name, None))
    for oid, (_, schema, name) in gone["domain"].items():
        found.add(("DOMAIN", schema, name, None))
    for key, (_, description) in gone["other"].items():
        found.add(("UNKNOWN", "", description, None))
    return found


def _index_table(before, index_oid):
    return before["index_table"][index_oid][1]


# -- scoring the analyzer against the answers -------------------------------------------------

FACTS = {"NOT_NULL", "PARTITION_KEY", "INHERITED_FROM"}  # properties of the column, not objects
REFUSALS = {"PARTITION_KEY", "INHERITED_FROM"}
NO_TABLE = {"SEQUENCE", "FUNCTION", "PROCEDURE", "DOMAIN", "UNKNOWN"}


def analyzer_answer(report) -> set[tuple]:
    """The analyzer's dependents in the oracle's terms: (type, schema, name, table)."""
    found = set()
    for dep in report.dependencies:
        kind = dep.type.value
        if kind in FACTS:
            continue
        kind = "FOREIGN_KEY" if kind.startswith("FOREIGN_KEY") else kind
        found.add((kind, dep.schema, dep.name, None if kind in NO_TABLE else dep.table))
    return found


@dataclass
class Score:
    """Per dependent type: how many PostgreSQL found, the analyzer found, and both found;
    the disagreements as (subject, item); how many drops PostgreSQL refused."""
    expected: Counter = field(default_factory=Counter)
    found: Counter = field(default_factory=Counter)
    hits: Counter = field(default_factory=Counter)
    misses: list = field(default_factory=list)
    extras: list = field(default_factory=list)
    refusals: int = 0

    def table_lines(self) -> list[str]:
        lines = [f"{'type':24} {'postgresql':>10} {'analyzer':>9} {'recall':>8} {'precision':>10}"]
        for kind in sorted(set(self.expected) | set(self.found)):
            recall = self.hits[kind] / self.expected[kind] if self.expected[kind] else 1.0
            precision = self.hits[kind] / self.found[kind] if self.found[kind] else 1.0
            lines.append(f"{kind:24} {self.expected[kind]:>10} {self.found[kind]:>9} {recall:>8.1%} {precision:>10.1%}")
        return lines


def score(subjects, answers: dict, reports: dict) -> Score:
    """The analyzer's reports against PostgreSQL's answers, subject by subject; a drop PostgreSQL
    refuses must be one the analyzer says it refuses (partition key, inherited column)."""
    out = Score()
    for subject in subjects:
        answer, report = answers[subject], reports[subject]
        if answer.refused:
            out.refusals += 1
            reasons = {d.type.value for d in report.dependencies} & REFUSALS
            out.expected["(refused drop)"] += 1
            out.found["(refused drop)"] += bool(reasons)
            out.hits["(refused drop)"] += bool(reasons)
            if not reasons:
                out.misses.append((subject, "PostgreSQL refuses: " + answer.refused))
            continue
        mine = analyzer_answer(report)
        for item in answer.dependents:
            out.expected[item[0]] += 1
            out.hits[item[0]] += item in mine
            if item not in mine:
                out.misses.append((subject, item))
        for item in mine:
            out.found[item[0]] += 1
            if item not in answer.dependents:
                out.extras.append((subject, item))
    return out

