from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from migrations_app import demo
from migrations_app.demo.authenticators import ensure_demo_authenticators


class Command(BaseCommand):
    help = "Create the demo_shop target database, demo users and demo plans (idempotent, development only)."

    def add_arguments(self, parser):
        parser.add_argument("--allow-production", action="store_true",
                            help="Seed even with DATAFLOW_DEBUG=false (demo users have known passwords).")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError("seed_demo creates users with printed passwords: development only (DATAFLOW_DEBUG=true).")
        log = self.stdout.write
        if not demo.ensure_demo_database(log):
            log(f"{demo.DEMO_DATABASE} already loaded.")
        demo.ensure_demo_users(settings.STATE_DIR / "demo-credentials.txt", log)
        ensure_demo_authenticators(settings.STATE_DIR / "demo-credentials.txt", log)
        target = demo.ensure_demo_target(log)
        from django.test.utils import override_settings

        # Seeding must not mail managers about demo plans.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            demo.ensure_demo_plans(target, log)
        from targets.tasks import refresh_target_health

        refresh_target_health(target.pk)
        self.stdout.write(self.style.SUCCESS("Demo ready."))
