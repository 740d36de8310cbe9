import pytest

from tests.factories import ADD_NICKNAME, MigrationPlanFactory, TargetDatabaseFactory


@pytest.fixture
def target(db):
    return TargetDatabaseFactory(name="shop-prod", environment="production")


@pytest.fixture
def plan(dba, target):
    return MigrationPlanFactory(author=dba, target=target, title="Add nickname", operations=[dict(ADD_NICKNAME)])
