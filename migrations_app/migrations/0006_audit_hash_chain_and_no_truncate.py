"""The audit trail becomes a hash chain, and TRUNCATE is refused like UPDATE and DELETE.

Existing rows are chained in id order. Their hashes are computed now, so they prove the rows have
not changed since this migration, not before it."""

import json

from django.db import migrations, models

from targets.audit_chain import GENESIS, row_hash

TABLE = "migrations_app_auditevent"

NO_TRUNCATE_SQL = f"""
CREATE TRIGGER migrations_app_auditevent_no_truncate
    BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION dataflow_audit_append_only();
"""
DROP_NO_TRUNCATE_SQL = f"DROP TRIGGER IF EXISTS migrations_app_auditevent_no_truncate ON {TABLE};"


def chain_existing_rows(apps, schema_editor):
    with schema_editor.connection.cursor() as cur:
        cur.execute(f"SELECT id, actor_id, actor_name, verb, object_type, object_id, object_repr, data::text, created_at "
                    f"FROM {TABLE} ORDER BY id")
        rows = cur.fetchall()
        if not rows:
            return
        updates, previous = [], GENESIS
        for id_, actor_id, actor_name, verb, object_type, object_id, object_repr, data, created_at in rows:
            fields = {"actor_id": actor_id, "actor_name": actor_name, "verb": verb, "object_type": object_type,
                      "object_id": object_id, "object_repr": object_repr, "data": json.loads(data),
                      "created_at": created_at}
            digest = row_hash(fields, previous)
            updates.append((previous, digest, id_))
            previous = digest
        # The append-only trigger refuses UPDATE; this migration is the one writer allowed to set
        # the hash columns, once, inside its own transaction.
        cur.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER migrations_app_auditevent_append_only")
        cur.executemany(f"UPDATE {TABLE} SET prev_hash = %s, row_hash = %s WHERE id = %s", updates)
        cur.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER migrations_app_auditevent_append_only")


class Migration(migrations.Migration):
    dependencies = [
        ("migrations_app", "0005_sign_offs_bound_to_review_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="row_hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing_rows, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(row_hash__regex="^[0-9a-f]{64}$") & models.Q(prev_hash__regex="^[0-9a-f]{64}$"),
                name="auditevent_hashes_present"),
        ),
        migrations.RunSQL(NO_TRUNCATE_SQL, DROP_NO_TRUNCATE_SQL),
    ]
