from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The site's own pieces that need the app registry: sign-in receivers and the step-up device."""

    name = "dataflow_site"
    verbose_name = "Sign-in"

    def ready(self):
        from dataflow_site import signin  # noqa: F401  (connects the lockout audit receiver)
