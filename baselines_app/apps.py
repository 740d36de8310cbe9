from django.apps import AppConfig


class BaselinesAppConfig(AppConfig):
    name = "baselines_app"
    verbose_name = "Performance baselines"
