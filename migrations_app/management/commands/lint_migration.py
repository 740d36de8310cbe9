"""``manage.py lint_migration FILE|- [--dsn DSN] [--schema S] [--json] [--fail-on LEVEL]`` for CI.

A thin wrapper over ``analyze_plan``. Exit status 1 when the plan's risk reaches ``--fail-on``,
2 when the input cannot be read or parsed (or the database cannot be read).
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand

LEVELS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")


class Command(BaseCommand):
    help = "Analyse a SQL migration: lock modes, rewrites, lint findings, risk and mitigation."
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("file", help="SQL file, or - for standard input")
        parser.add_argument("--dsn", help="connection string of the target database (read-only use)")
        parser.add_argument("--schema", default="public")
        parser.add_argument("--json", action="store_true", dest="as_json")
        parser.add_argument("--fail-on", choices=LEVELS, type=str.upper)
        parser.add_argument("--production", action="store_true", help="the target is production")
        parser.add_argument("--has-backup", action="store_true", help="a verified backup exists")

    def handle(self, *args, **options):
        from migrations_app.engines.connections import TargetConnection, TargetConnectionError
        from migrations_app.engines.plan_analysis import analyze_plan
        from migrations_app.engines.risk_catalog import CatalogFactsError
        from migrations_app.engines.statements import SqlSyntaxError

        try:
            if options["file"] == "-":
                text = sys.stdin.read()
            else:
                with open(options["file"], encoding="utf-8") as fh:
                    text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            self.stderr.write(f"cannot read {options['file']}: {exc}")
            sys.exit(2)
        try:
            connection = TargetConnection.from_dsn(options["dsn"]) if options["dsn"] else None
            report = analyze_plan(text, connection, options["schema"], is_production=options["production"],
                                  has_backup=options["has_backup"])
        except SqlSyntaxError as exc:
            self.stderr.write(f"{options['file']}:{exc.line}:{exc.position}: syntax error: {exc.message}")
            sys.exit(2)
        except (TargetConnectionError, CatalogFactsError) as exc:
            self.stderr.write(f"cannot analyse against the database: {exc}")
            sys.exit(2)
        if options["as_json"]:
            self.stdout.write(json.dumps(report.to_dict(), indent=2 if len(report.statements) <= 200 else None, default=str))
        else:
            self._print(report)
        fail_on = options["fail_on"]
        if fail_on and LEVELS.index(report.risk.risk_level.value) >= LEVELS.index(fail_on):
            sys.exit(1)

    def _print(self, report):
        out = self.stdout.write
        out("static analysis only: no database connected (sizes, dependents and live locks unknown)"
            if report.static_only else
            f"live analysis: catalog read in {report.facts.queries_run} queries")
        for stmt in report.statements:
            flags = [f for f, on in (("rewrites table", stmt.rewrites_table), ("scans table", stmt.scans_table),
                                     ("not transactional", not stmt.transactional), ("destroys data", stmt.destroys_data)) if on]
            out(f"\nline {stmt.line}: {stmt.kind} {stmt.qualified_table or ''}  lock={stmt.lock_mode or '-'}"
                + (f"  [{', '.join(flags)}]" if flags else ""))
            for note in stmt.notes:
                out(f"    note: {note}")
            for f in report.findings_for(stmt.index):
                out(f"    {f.severity.upper():7} {f.rule}: {f.message}")
        for err in report.errors:
            out(f"\nerror: {err}")
        risk = report.risk
        out(f"\nrisk: {risk.risk_level.value} ({risk.overall_score}/100)  "
            + "  ".join(f"{c}={s}" for c, s in risk.category_scores.items()))
        for factor in risk.risk_factors[:15]:
            out(f"  +{factor.points:<3} {factor.category:20} {factor.evidence}")
        plan = report.mitigation
        if plan.recommended_execution_order:
            out(f"\nmitigation (projected risk after: {plan.projected_level_after.value} {plan.projected_risk_after}/100):")
            for step in plan.recommended_execution_order:
                s = step.strategy
                out(f"  {step.order}. [{s.priority}] {s.name} ({s.estimated_effort_hours} h)")
