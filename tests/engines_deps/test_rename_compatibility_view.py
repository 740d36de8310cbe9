"""The compatibility view of a rename checks the reader's rights and row-level security, carries
the table's grants, and the plan says what a view cannot carry; the renamed-table lint rule and
the rename analyzer agree on which routines name the table (one parse-tree implementation)."""

import psycopg
import pytest

from migrations_app.engines.plan_analysis import analyze_plan
from migrations_app.engines.dependencies import TableRenameAnalyzer

READER = "dfdeps_rename_reader"
OUTSIDER = "dfdeps_rename_outsider"

SCHEMA = f"""
DROP ROLE IF EXISTS {READER};
DROP ROLE IF EXISTS {OUTSIDER};
CREATE ROLE {READER} LOGIN;
CREATE ROLE {OUTSIDER} LOGIN;
CREATE TABLE notes (id int PRIMARY KEY, owner text, body text);
INSERT INTO notes VALUES (1, '{READER}', 'mine'), (2, 'someone', 'hidden'), (3, 'someone', 'hidden too');
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_notes ON notes USING (owner = current_user);
GRANT SELECT, INSERT ON notes TO {READER};
CREATE FUNCTION note_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM notes $$;
CREATE FUNCTION commented() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    -- this used to read notes, it does not any more
    RETURN 1;
END $$;
CREATE FUNCTION audit_trigger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER notes_audit BEFORE INSERT ON notes FOR EACH ROW EXECUTE FUNCTION audit_trigger();
"""


@pytest.fixture
def target(target_db):
    made = target_db(SCHEMA)
    yield made
    with made.connect(autocommit=True) as admin:
        admin.execute(f"DROP OWNED BY {READER}, {OUTSIDER}")
        admin.execute(f"DROP ROLE {READER}")
        admin.execute(f"DROP ROLE {OUTSIDER}")


def test_the_compatibility_view_keeps_grants_and_row_level_security(target):
    plan = TableRenameAnalyzer(target).analyze_table_rename("notes", "memos").generate_rename_plan()
    assert plan.compatibility_view and "security_invoker = true" in plan.sql
    assert f"GRANT INSERT, SELECT ON public.notes TO {READER};" in plan.sql
    with target.connect(autocommit=True) as admin:
        admin.execute(plan.sql)
    try:
        with target.with_options(user=READER).connect(autocommit=True) as reader:
            rows = reader.execute("SELECT body FROM notes ORDER BY id").fetchall()
            assert rows == [("mine",)]  # the policy still hides the other rows
        with target.with_options(user=OUTSIDER).connect(autocommit=True) as outsider:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                outsider.execute("SELECT body FROM notes")
    finally:
        with target.connect(autocommit=True) as admin:
            admin.execute(plan.rollback_sql)
            assert admin.execute("SELECT relkind FROM pg_class WHERE relname = 'notes'").fetchone()[0] == "r"


def test_the_plan_says_what_a_view_cannot_carry(target):
    plan = TableRenameAnalyzer(target).analyze_table_rename("notes", "memos").generate_rename_plan()
    text = " ".join(plan.notes)
    assert "CREATE TRIGGER" in text and "REFERENCES" in text and "COPY" in text and "TRUNCATE" in text
    assert "public.memos has triggers: they still fire for writes through the view" in plan.notes


def test_a_function_naming_the_table_only_in_a_comment_is_left_out_by_analyzer_and_rule(target):
    report = TableRenameAnalyzer(target).analyze_table_rename("notes", "memos")
    assert [o.object_name for o in report.readers_of_old_name] == ["note_count()"]
    findings = [f for f in analyze_plan("ALTER TABLE notes RENAME TO memos", target).findings
                if f.rule == "renamed-table-referenced-by-functions"]
    assert [f.evidence["functions"] for f in findings] == [["public.note_count()"]]
