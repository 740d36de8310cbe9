"""API fixtures: tokens for personas, a live target database with the shop schema."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.shop import shop_sql

SHOP = shop_sql() + """
INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 50) g;
"""


@pytest.fixture
def token_for(db):
    """``token_for(user, "write")``: the token text (shown once) of a new token of that user."""
    from integrations.models import ApiToken

    def make(user, scope: str = "read") -> str:
        return ApiToken.issue(user, f"{user.username} ci", scope)[1]

    return make


@pytest.fixture
def api():
    """``api(token).get(path)`` / ``.post(path, json)``: the API through Django's test client."""

    class Api:
        def __init__(self, token):
            self.client = Client()
            self.headers = {"Authorization": f"Bearer {token}"} if token else {}

        def get(self, path):
            return self.client.get(f"/api/v1{path}", headers=self.headers)

        def post(self, path, payload=None):
            return self.client.post(f"/api/v1{path}", payload or {}, content_type="application/json", headers=self.headers)

        def put(self, path, payload):
            return self.client.put(f"/api/v1{path}", payload, content_type="application/json", headers=self.headers)

    return Api


@pytest.fixture
def shop_target(target_db, db):
    from tests.factories import TargetDatabaseFactory

    conn = target_db(SHOP)
    return TargetDatabaseFactory.for_connection(conn, name="shop")
