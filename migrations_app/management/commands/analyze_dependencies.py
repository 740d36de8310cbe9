"""``manage.py analyze_dependencies --dsn DSN [--schema S] TABLE [COLUMN] [--json]``.

For scripts and CI: human-readable by default, ``--json`` prints the report's ``to_dict()``.
Exit status 2 on a connection or input error, with the message on stderr.
"""

import json
import sys

from django.core.management.base import BaseCommand

from migrations_app.engines.dependencies import DependencyAnalysisError, DependencyAnalyzer
from targets.engines.connections import TargetConnection, TargetConnectionError


class Command(BaseCommand):
    help = "List what depends on a table or a column of a target database, with impact levels."

    def add_arguments(self, parser):
        parser.add_argument("--dsn", required=True, help="libpq connection string or URI of the target database")
        parser.add_argument("--schema", default="public")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("table")
        parser.add_argument("column", nargs="?")

    def handle(self, *args, **opts):
        try:
            target = TargetConnection.from_dsn(opts["dsn"])
            analyzer = DependencyAnalyzer(target)
            if opts["column"]:
                report = analyzer.analyze_column_dependencies(opts["table"], opts["column"], opts["schema"])
            else:
                report = analyzer.analyze_table_dependencies(opts["table"], opts["schema"])
        except (TargetConnectionError, DependencyAnalysisError) as exc:
            self.stderr.write(f"error: {exc}")
            sys.exit(2)
        if opts["json"]:
            self.stdout.write(json.dumps(report.to_dict(), indent=2))
            return
        subject = f"{report.schema}.{report.table}" + (f".{report.column}" if report.column else "")
        summary = report.generate_impact_summary()
        self.stdout.write(f"{subject}: {summary['total']} dependencies, "
                          f"{len(report.get_critical_dependencies())} critical, "
                          f"recommendation {summary['recommendation']}")
        for dep in report.dependencies:
            where = f" line {dep.line}" if dep.line else ""
            via = f" via {' -> '.join(dep.path)}" if len(dep.path) > 1 else ""
            self.stdout.write(f"  [{dep.impact.value:<13}] {dep.type.value:<20} {dep.schema}.{dep.name}{where}{via}")
            self.stdout.write(f"      {dep.reason}")
