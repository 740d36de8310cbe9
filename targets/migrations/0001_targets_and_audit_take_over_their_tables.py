"""Target databases and the audit trail move to the bottom layer in Django's state only: the tables
keep their names (``Meta.db_table``), so no row moves and no table is dropped. Content types
follow in migrations_app 0011, after every foreign key points here."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("migrations_app", "0010_plan_statement_timeout"),  # the tables exist
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='TargetDatabase',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('name', models.CharField(max_length=100, unique=True)),
                    ('host', models.CharField(help_text='Host name, IP address, or a Unix socket directory.', max_length=255)),
                    ('port', models.PositiveIntegerField(default=5432)),
                    ('dbname', models.CharField(max_length=63, verbose_name='database')),
                    ('user', models.CharField(max_length=63)),
                    ('password_encrypted', models.TextField(blank=True, default='')),
                    ('sslmode', models.CharField(choices=[('disable', 'disable'), ('allow', 'allow'), ('prefer', 'prefer'), ('require', 'require'), ('verify-ca', 'verify-ca'), ('verify-full', 'verify-full')], default='prefer', max_length=16)),
                    ('environment', models.CharField(choices=[('production', 'Production'), ('staging', 'Staging'), ('development', 'Development')], default='development', max_length=16)),
                    ('staging_host', models.CharField(blank=True, help_text="Server for staging copies; blank means the target's own server.", max_length=255)),
                    ('staging_port', models.PositiveIntegerField(blank=True, null=True)),
                    ('notes', models.TextField(blank=True)),
                    ('last_health', models.JSONField(blank=True, null=True)),
                    ('last_health_at', models.DateTimeField(blank=True, null=True)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                ],
                options={
                    'db_table': 'migrations_app_targetdatabase',
                    'ordering': ['name'],
                },
            ),
            migrations.CreateModel(
                name='AuditEvent',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('actor_name', models.CharField(blank=True, max_length=150)),
                    ('verb', models.CharField(db_index=True, max_length=64)),
                    ('object_type', models.CharField(db_index=True, max_length=64)),
                    ('object_id', models.CharField(blank=True, db_index=True, max_length=64)),
                    ('object_repr', models.CharField(blank=True, max_length=255)),
                    ('data', models.JSONField(blank=True, default=dict)),
                    ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                    ('prev_hash', models.CharField(max_length=64)),
                    ('row_hash', models.CharField(max_length=64)),
                    ('actor', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'db_table': 'migrations_app_auditevent',
                    'ordering': ['-created_at', '-id'],
                    'constraints': [models.CheckConstraint(condition=models.Q(('row_hash__regex', '^[0-9a-f]{64}$'), ('prev_hash__regex', '^[0-9a-f]{64}$')), name='auditevent_hashes_present')],
                },
            ),
        ]),
    ]
