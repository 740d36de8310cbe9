import pytest

from tests.factories import ADD_NICKNAME, MigrationPlanFactory, TargetDatabaseFactory

SIMPLE_OPS = [ADD_NICKNAME]


@pytest.fixture
def target(db):
    return TargetDatabaseFactory(name="shop-prod", environment="production")


@pytest.fixture
def plan(dba, target):
    return MigrationPlanFactory(author=dba, target=target, title="Add nickname", operations=SIMPLE_OPS)
