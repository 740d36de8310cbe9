"""``manage.py analyze_rename --dsn DSN [--schema S] OLD NEW [--json]``: rename impact and plan.

Exit status 2 on a connection or input error (missing table, name PostgreSQL would reject).
"""

import json
import sys

from django.core.management.base import BaseCommand

from migrations_app.engines.dependencies import DependencyAnalysisError, TableRenameAnalyzer
from targets.engines.connections import TargetConnection, TargetConnectionError


class Command(BaseCommand):
    help = "Show what renaming a table affects, and the rename plan with its rollback."

    def add_arguments(self, parser):
        parser.add_argument("--dsn", required=True, help="libpq connection string or URI of the target database")
        parser.add_argument("--schema", default="public")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--no-compatibility-view", action="store_true",
                            help="never add a view under the old name to the plan")
        parser.add_argument("old")
        parser.add_argument("new")

    def handle(self, *args, **opts):
        try:
            analyzer = TableRenameAnalyzer(TargetConnection.from_dsn(opts["dsn"]))
            report = analyzer.analyze_table_rename(opts["old"], opts["new"], opts["schema"])
        except (TargetConnectionError, DependencyAnalysisError) as exc:
            self.stderr.write(f"error: {exc}")
            sys.exit(2)
        plan = report.generate_rename_plan(False if opts["no_compatibility_view"] else None)
        if opts["json"]:
            data = report.to_dict()
            data["plan"] = plan.to_dict()
            self.stdout.write(json.dumps(data, indent=2))
            return
        summary = report.impact_summary
        self.stdout.write(f"{report.schema}.{report.old_name} -> {report.new_name}: {summary.total_objects} objects, "
                          f"risk {summary.overall_risk.value}, {summary.rewrite_count} need a rewrite")
        for obj in report.schema_objects:
            flag = "REWRITE" if obj.requires_sql_rewrite else "follows"
            self.stdout.write(f"  [{obj.impact_level.value:<13}] {obj.object_type.value:<17} {obj.schema}.{obj.object_name} "
                              f"({flag})")
            self.stdout.write(f"      {obj.reason}")
        for note in report.notes + plan.notes:
            self.stdout.write(f"note: {note}")
        self.stdout.write("\n-- plan\n" + plan.sql + "\n\n-- rollback\n" + plan.rollback_sql)
