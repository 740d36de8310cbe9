"""The drift check runs every 15 minutes (django-q2 schedule, created once here)."""

from django.db import migrations

SCHEDULE_NAME = "integrations: schema drift of every target"


def create_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": "integrations.tasks.check_drift", "schedule_type": "I", "minutes": 15, "repeats": -1},
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_drift_findings_webhook_deliveries"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
