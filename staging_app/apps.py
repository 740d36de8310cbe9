from django.apps import AppConfig


class StagingAppConfig(AppConfig):
    name = "staging_app"
    verbose_name = "Staging environments"
