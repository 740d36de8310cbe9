from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("migrations_app", "0007_merge_execution_journal_and_audit_chain"),
        ("migrations_app", "0008_execution_schema_and_data_verification"),
    ]
    operations = []
