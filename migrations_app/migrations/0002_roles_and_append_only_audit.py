"""The three roles, and a trigger that makes the audit table append-only."""

from django.db import migrations

ROLE_PERMISSIONS = {
    # codenames per app label; models of later migrations add theirs in their own migrations
    "DBA": {"migrations_app": ["add_targetdatabase", "change_targetdatabase", "delete_targetdatabase",
                               "view_targetdatabase", "view_auditevent"]},
    "Manager": {"migrations_app": ["view_targetdatabase", "view_auditevent"]},
    "Engineer": {"migrations_app": ["view_targetdatabase", "view_auditevent"]},
}

APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION dataflow_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER migrations_app_auditevent_append_only
    BEFORE UPDATE OR DELETE ON migrations_app_auditevent
    FOR EACH ROW EXECUTE FUNCTION dataflow_audit_append_only();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS migrations_app_auditevent_append_only ON migrations_app_auditevent;
DROP FUNCTION IF EXISTS dataflow_audit_append_only();
"""


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, per_app in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for app_label, codenames in per_app.items():
            perms = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
            group.permissions.add(*perms)


def drop_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLE_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("migrations_app", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_roles, drop_roles),
        migrations.RunSQL(APPEND_ONLY_SQL, DROP_SQL),
    ]
