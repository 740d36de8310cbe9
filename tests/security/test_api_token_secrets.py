"""An API token is shown once, on the page that made it, and nowhere after: not in a later page,
a log line, an audit row, a stored row (only its sha256 is kept), nor a django-q2 task; a revoked
token is refused. The same search as test_secrets.py, over the token's whole life."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.apps import apps
from django.core import serializers
from django.urls import reverse

from tests.api.conftest import shop_target  # noqa: F401  (fixture)
from tests.security.test_secrets import everything_logged, stored_text  # noqa: F401  (fixture and helper)


def every_row_as_text() -> str:
    rows = [serializers.serialize("json", model.objects.all())
            for app in ("integrations", "targets", "auth") for model in apps.get_app_config(app).get_models()]
    return stored_text() + "".join(rows)


@pytest.mark.django_db
def test_a_token_is_shown_once_stored_hashed_never_logged_and_refused_after_revocation(
        dba, client_for, shop_target, everything_logged, django_capture_on_commit_callbacks):  # noqa: F811
    from integrations.models import ApiToken
    from targets.models import AuditEvent

    page = client_for(dba)
    made = page.post(reverse("api_tokens"), {"name": "GitHub Actions", "scope": "write"})
    assert made.status_code == 200
    token = re.search(r"dfk_[0-9a-f]{12}_[A-Za-z0-9_\-]{43}", made.content.decode()).group(0)
    row = ApiToken.objects.get()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()

    api = page.__class__()
    headers = {"Authorization": f"Bearer {token}"}
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/v1/plans", {"target": "shop", "title": "t", "sql": "ALTER TABLE customers ADD COLUMN a int"},
                           content_type="application/json", headers=headers)
        assert created.status_code == 201, created.content
        assert api.post(f"/api/v1/plans/{created.json()['id']}/analyses", headers=headers).status_code == 202
    assert api.get("/api/v1/plans/999999", headers=headers).status_code == 404
    row.refresh_from_db()
    assert row.last_used_at is not None and row.last_used_from == "127.0.0.1"

    assert page.post(reverse("api_token_revoke", args=[row.pk])).status_code == 302
    assert api.get("/api/v1/plans", headers=headers).status_code == 401
    later = page.get(reverse("api_tokens")).content.decode()
    assert str(row) in later and "revoked" in later

    assert list(AuditEvent.objects.filter(verb__startswith="api_token.").values_list("verb", flat=True)
                .order_by("id")) == ["api_token.created", "api_token.revoked"]
    secret = token.split("_", 2)[2]
    for where, text in (("a later page", later), ("the logs", everything_logged.text),
                        ("a stored row", every_row_as_text())):
        assert secret not in text, f"the token's secret found in {where}"


@pytest.mark.django_db
def test_only_a_dba_may_make_a_read_and_write_token_and_nobody_revokes_anothers(
        dba, engineer, client_for):
    from integrations.models import ApiToken

    refused = client_for(engineer).post(reverse("api_tokens"), {"name": "x", "scope": "write"})
    assert refused.status_code == 403 and not ApiToken.objects.exists()
    assert client_for(engineer).post(reverse("api_tokens"), {"name": "x", "scope": "read"}).status_code == 200
    theirs = ApiToken.objects.get()
    assert client_for(dba).post(reverse("api_token_revoke", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active
    assert client_for(None).get(reverse("api_tokens")).status_code == 302  # anonymous: to the login page


@pytest.mark.django_db
def test_an_outsider_gets_no_tokens_page(outsider, client_for):
    assert client_for(outsider).get(reverse("api_tokens")).status_code == 403
