"""Walk the audit trail's hash chain and report the first broken link (exit 1), or the head."""

import re

from django.core.management.base import BaseCommand, CommandError

from targets.models import AuditEvent


class Command(BaseCommand):
    help = ("Check the audit trail's hash chain. Prints the head (event id and hash): keep it outside "
            "the database and pass it back with --anchor to detect a chain rewritten or cut short since.")

    def add_arguments(self, parser):
        parser.add_argument("--anchor", metavar="ID:HASH",
                            help="an event id and hash printed by an earlier run; it must still be in the chain")

    def handle(self, *args, anchor, **options):
        report = AuditEvent.verify_chain(anchor=self._parse_anchor(anchor) if anchor else None)
        problems = []
        if report.broken_at is not None:
            problems.append(f"broken at event #{report.broken_at}: {report.problem} "
                            f"({report.checked - 1} events before it are intact)")
        if report.anchor_problem:
            problems.append(report.anchor_problem)
        if problems:
            raise CommandError("Audit chain NOT intact: " + "; ".join(problems), returncode=1)
        self.stdout.write(f"Audit chain intact: {report.checked} events checked.")
        if report.head_id is None:
            self.stdout.write("The audit trail is empty.")
        else:
            self.stdout.write(f"Head: {report.head_id}:{report.head_hash}")
            self.stdout.write("Keep the head outside this database; later runs with --anchor "
                              f"{report.head_id}:{report.head_hash} detect a chain rewritten or cut short since.")

    @staticmethod
    def _parse_anchor(text: str) -> tuple[int, str]:
        match = re.fullmatch(r"(\d+):([0-9a-f]{64})", text.strip())
        if not match:
            raise CommandError(f"--anchor takes ID:HASH as printed by verify_audit, not {text!r}", returncode=2)
        return int(match.group(1)), match.group(2)
