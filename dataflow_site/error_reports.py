"""What Django's error reports (the development 500 page, error emails) may show.

Django's own filter hides settings named like API/TOKEN/KEY/SECRET/PASS, and cleans POST fields
marked with ``sensitive_post_parameters`` only when DEBUG is off. Here DEBUG is on by default
(development), and the Slack webhook URL and the database URL carry credentials without such a
name, so this filter also hides names with WEBHOOK or DATABASE_URL (settings and the request's
environment alike) and cleans marked POST fields and variables in development too."""

import re

from django.views.debug import SafeExceptionReporterFilter


class SecretSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile("API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|WEBHOOK|DATABASE_URL|DSN",
                                 flags=re.IGNORECASE)

    def is_active(self, request):
        return True
