"""The audit trail is append-only (UPDATE, DELETE and TRUNCATE refused) and hash-chained; the
chain check names the first broken link. Tampering is done the way a database owner or superuser
would: switching the triggers off."""

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, connections, transaction

from targets.audit_chain import GENESIS
from targets.models import AuditEvent

TABLE = "migrations_app_auditevent"


def record(n: int, **data) -> AuditEvent:
    return AuditEvent.record(None, "test.recorded", object_type="thing", object_id=str(n), data=data)


def behind_the_triggers(sql: str, params=()) -> None:
    """What a table owner or superuser can still do: switch the append-only triggers off."""
    with connection.cursor() as cur:
        cur.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        cur.execute(sql, params)
        cur.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")


def verify_command(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_truncating_the_audit_table_is_refused():
    event = record(1)
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"TRUNCATE {TABLE}")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_each_event_links_to_the_one_before_and_the_chain_verifies():
    first, second, third = record(1), record(2, note="two"), record(3, nested={"b": [1, 2], "a": None})
    before = AuditEvent.objects.filter(pk__lt=first.pk).order_by("-id").values_list("row_hash", flat=True).first()
    assert first.prev_hash == (before or GENESIS)
    assert (second.prev_hash, third.prev_hash) == (first.row_hash, second.row_hash)
    assert len({first.row_hash, second.row_hash, third.row_hash}) == 3
    report = AuditEvent.verify_chain()
    assert report.intact and report.head_id == third.pk and report.head_hash == third.row_hash


@pytest.mark.django_db
def test_numbers_and_unicode_in_the_data_hash_the_same_after_the_round_trip_through_jsonb():
    record(1, big=1e16, ratio=1.5, exact=10**20, text="Zürich – ✓", empty={}, items=[3, 2, 1])
    assert AuditEvent.verify_chain().intact


@pytest.mark.django_db
def test_an_event_edited_behind_the_triggers_back_is_the_first_broken_link():
    record(1)
    edited = record(2, amount=100)
    record(3)
    behind_the_triggers(f"UPDATE {TABLE} SET data = '{{\"amount\": 1}}' WHERE id = %s", [edited.pk])
    report = AuditEvent.verify_chain()
    assert not report.intact
    assert report.broken_at == edited.pk
    assert "content was changed" in report.problem


@pytest.mark.django_db
def test_a_removed_event_breaks_the_link_of_the_next_one():
    record(1)
    removed = record(2)
    following = record(3)
    behind_the_triggers(f"DELETE FROM {TABLE} WHERE id = %s", [removed.pk])
    report = AuditEvent.verify_chain()
    assert report.broken_at == following.pk
    assert "removed, inserted or rewritten" in report.problem


@pytest.mark.django_db
def test_an_event_written_without_its_hash_is_refused_by_the_database():
    with pytest.raises(IntegrityError, match="auditevent_hashes_present"):
        with transaction.atomic():
            AuditEvent.objects.create(verb="forged", object_type="thing")


@pytest.mark.django_db
def test_verify_audit_prints_the_head_of_an_intact_chain():
    record(1)
    last = record(2)
    output = verify_command()
    assert "Audit chain intact" in output
    assert f"Head: {last.pk}:{last.row_hash}" in output


@pytest.mark.django_db
def test_verify_audit_exits_non_zero_and_names_the_first_broken_link():
    record(1)
    edited = record(2)
    record(3)
    behind_the_triggers(f"UPDATE {TABLE} SET verb = 'nothing.happened' WHERE id = %s", [edited.pk])
    with pytest.raises(CommandError, match=f"broken at event #{edited.pk}") as raised:
        verify_command()
    assert raised.value.returncode == 1


@pytest.mark.django_db
def test_an_anchor_kept_outside_reveals_a_chain_cut_short_at_the_end():
    record(1)
    last = record(2)
    anchor = f"{last.pk}:{last.row_hash}"
    assert "intact" in verify_command("--anchor", anchor)
    # Removing the newest event leaves a chain that is intact in itself...
    behind_the_triggers(f"DELETE FROM {TABLE} WHERE id = %s", [last.pk])
    assert AuditEvent.verify_chain().intact
    # ...but not with the head that was kept outside.
    with pytest.raises(CommandError, match="not in the chain any more") as raised:
        verify_command("--anchor", anchor)
    assert raised.value.returncode == 1


@pytest.mark.django_db
def test_an_anchor_reveals_a_chain_rewritten_with_fresh_hashes():
    first = record(1)
    record(2)
    anchor = (first.pk, first.row_hash)
    # A superuser rewrites event 1 and recomputes every hash from there: the chain verifies...
    from targets.audit_chain import row_hash

    behind_the_triggers(f"UPDATE {TABLE} SET verb = 'rewritten' WHERE id = %s", [first.pk])
    previous = AuditEvent.objects.filter(pk__lt=first.pk).order_by("-id").values_list("row_hash", flat=True).first()
    previous = previous or GENESIS
    for event in AuditEvent.objects.filter(pk__gte=first.pk).order_by("id"):
        digest = row_hash(event.chain_fields(), previous)
        behind_the_triggers(f"UPDATE {TABLE} SET prev_hash = %s, row_hash = %s WHERE id = %s", [previous, digest, event.pk])
        previous = digest
    assert AuditEvent.verify_chain().intact
    # ...except against the hash of event 1 kept outside the database.
    report = AuditEvent.verify_chain(anchor=anchor)
    assert not report.intact and "rewritten" in report.anchor_problem


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writers_leave_one_linear_chain():
    writers, per_writer, errors = 4, 25, []

    def write(n):
        try:
            for i in range(per_writer):
                AuditEvent.record(None, "test.concurrent", object_type="writer", object_id=f"{n}-{i}")
        except Exception as exc:  # reported below; a thread's exception would otherwise vanish
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert AuditEvent.objects.filter(verb="test.concurrent").count() == writers * per_writer
    # No fork: no two events name the same predecessor.
    predecessors = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(set(predecessors)) == len(predecessors)
    report = AuditEvent.verify_chain()
    assert report.intact, report.problem


@pytest.mark.django_db
def test_the_audit_page_shows_an_intact_chain_and_its_head(client_for, engineer):
    last = record(1)
    body = client_for(engineer).get("/audit/").content.decode()
    assert "Hash chain intact" in body and f"{last.pk}:{last.row_hash}" in body


@pytest.mark.django_db
def test_the_audit_page_names_the_first_broken_link(client_for, manager):
    edited = record(1)
    record(2)
    behind_the_triggers(f"UPDATE {TABLE} SET actor_name = 'someone else' WHERE id = %s", [edited.pk])
    body = client_for(manager).get("/audit/").content.decode()
    assert f"Hash chain broken at event #{edited.pk}" in body and "Hash chain intact" not in body


@pytest.mark.django_db
def test_the_audit_page_is_for_the_three_roles_only(client_for, dba, manager, engineer, outsider):
    for user in (dba, manager, engineer):
        assert client_for(user).get("/audit/").status_code == 200
    assert client_for(outsider).get("/audit/").status_code == 403
    response = client_for(None).get("/audit/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
