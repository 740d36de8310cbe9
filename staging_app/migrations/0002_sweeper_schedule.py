"""The sweeper runs every 15 minutes (django-q2 schedule, created once here)."""

from django.db import migrations

SCHEDULE_NAME = "staging: sweep expired and orphaned environments"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": "staging_app.tasks.sweep_staging_environments", "schedule_type": "I", "minutes": 15,
                  "repeats": -1},
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("staging_app", "0001_initial"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
