"""column-has-dependents: a drop names everything the drop removes; a rename names only what
breaks by name (routine bodies) or what PostgreSQL refuses (an inherited column)."""

import pytest

from migrations_app.engines.plan_analysis import analyze_plan

SCHEMA = """
CREATE TABLE parent (id int, note text);
CREATE TABLE child () INHERITS (parent);
CREATE VIEW notes AS SELECT note FROM parent;
CREATE FUNCTION note_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(note) FROM parent $$;
"""


@pytest.fixture
def target(target_db):
    return target_db(SCHEMA)


def _finding(sql, target):
    return next((f for f in analyze_plan(sql, target).findings if f.rule == "column-has-dependents"), None)


def test_dropping_a_column_names_the_view_the_function_and_the_childs_copy(target):
    finding = _finding("ALTER TABLE parent DROP COLUMN note;", target)
    assert {"view public.notes", "function public.note_count()", "inherited column public.child.note"} \
        <= set(finding.evidence["dependents"])


def test_renaming_a_column_names_only_the_function_whose_body_breaks(target):
    finding = _finding("ALTER TABLE parent RENAME COLUMN note TO remark;", target)
    assert finding.evidence["dependents"] == ["function public.note_count()"]


def test_renaming_an_inherited_column_on_the_child_says_postgresql_refuses(target):
    finding = _finding("ALTER TABLE child RENAME COLUMN note TO remark;", target)
    assert finding.evidence["dependents"] == ["inherited from public.parent"]
