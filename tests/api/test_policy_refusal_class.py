"""A statement-policy refusal is its own error class (PolicyRefusal), so the API and the CI client
tell it apart from unreadable input by its type, whatever the words in the SQL or the message."""

from __future__ import annotations

import pytest

from integrations.plan_files import FilesError, is_policy_refusal, operations_from_files
from migrations_app.plan_sql import PolicyRefusal, ScriptError, script_to_operations


def test_a_refused_statement_raises_a_policy_refusal_and_bad_input_only_a_script_error(db):
    with pytest.raises(PolicyRefusal):
        script_to_operations("COPY orders FROM PROGRAM 'curl example.com';", "public")
    for unreadable in ("ALTER TABLE orders ADD COLUMN;", "", "SELECT 1;\x00"):
        with pytest.raises(ScriptError) as caught:
            script_to_operations(unreadable, "public")
        assert not isinstance(caught.value, PolicyRefusal) and not is_policy_refusal(caught.value)


def test_an_error_that_quotes_the_refusal_wording_is_still_bad_input(db):
    wording = 'ALTER TABLE orders "refused by the statement policy";'  # the parser quotes the token it stopped at
    with pytest.raises(ScriptError) as caught:
        script_to_operations(wording, "public")
    assert "refused by the statement policy" in str(caught.value) and not is_policy_refusal(caught.value)


def test_a_migration_file_refused_by_the_policy_is_marked_policy_and_keeps_its_file_line(db):
    with pytest.raises(FilesError) as caught:
        operations_from_files([("db/V1__copy.sql", "SELECT 1;\nCOPY orders TO PROGRAM 'cat';\n")], schema="public",
                              target=None, format=None, applied=set())
    assert caught.value.policy and "db/V1__copy.sql:2" in str(caught.value)
