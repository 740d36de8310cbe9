import pytest

from tests.factories import MigrationPlanFactory, TargetDatabaseFactory

ADD_NICKNAME = {"type": "ADD_COLUMN", "schema_name": "public", "table": "customers", "column": "nickname",
                "sql": "ALTER TABLE customers ADD COLUMN nickname text",
                "rollback_sql": "ALTER TABLE customers DROP COLUMN nickname",
                "rollback_note": "dropping the added column restores the previous shape", "line": 1}


@pytest.fixture
def plan(dba):
    # No live target is needed: the pages under test render from the app database only.
    target = TargetDatabaseFactory(name="shop-dev", environment="development")
    return MigrationPlanFactory(author=dba, target=target, title="Add nickname", operations=[ADD_NICKNAME])
