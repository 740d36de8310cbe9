from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('migrations_app', '0005_execution_journal_and_partial_outcomes'),
        ('migrations_app', '0006_audit_hash_chain_and_no_truncate'),
    ]

    operations = [
    ]
