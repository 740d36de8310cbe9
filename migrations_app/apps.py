from django.apps import AppConfig


class MigrationsAppConfig(AppConfig):
    name = "migrations_app"
    verbose_name = "Migrations"

    def ready(self):
        from migrations_app import receivers  # noqa: F401  (connects the handlers of targets.signals)
