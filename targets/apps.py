from django.apps import AppConfig


class TargetsConfig(AppConfig):
    name = "targets"
    verbose_name = "Target databases"

    def ready(self):
        from targets import receivers  # noqa: F401  (connects the repoint receiver)
