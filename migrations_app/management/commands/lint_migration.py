"""``manage.py lint_migration FILE|- [--dsn DSN] [--schema S] [--json] [--fail-on LEVEL]`` for CI.

The work is ``migrations_app.lint_cli.run``, which ``python -m migrations_app.lint_cli`` also
calls without starting Django (what CI and pre-commit should prefer: same output, same exit
status, a fraction of the start-up). Exit status 1 when the plan's risk reaches ``--fail-on``,
2 when the input cannot be read or parsed or the database cannot be read, 3 when a statement
(or its rollback) is refused by the statement policy.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from migrations_app import lint_cli


class Command(BaseCommand):
    help = lint_cli.DESCRIPTION
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        lint_cli.add_arguments(parser)

    def handle(self, *args, **options):
        code = lint_cli.run(options, settings.DATAFLOW_MAX_SCRIPT_BYTES, self.stdout.write, self.stderr.write)
        if code:
            sys.exit(code)
