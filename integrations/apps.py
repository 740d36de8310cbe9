from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """The JSON API, API tokens, migration files, the per-target ledger: the layer above the plans."""

    name = "integrations"
    verbose_name = "CI integration"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from integrations import receivers  # noqa: F401  (connects the ledger to finished executions)
