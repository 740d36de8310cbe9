"""``manage.py lint_migration FILE|- [--dsn DSN] [--schema S] [--json] [--fail-on LEVEL]`` for CI.

A thin wrapper over ``analyze_plan``. Exit status 1 when the plan's risk reaches ``--fail-on``,
2 when the input cannot be read or parsed (NUL, invalid UTF-8, over-size, syntax) or the database
cannot be read, 3 when a statement (or its rollback) is refused by the statement policy.
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
        from migrations_app.engines.dependency_analyzer import DependencyAnalysisError
        from migrations_app.engines.plan_analysis import analyze_plan
        from migrations_app.engines.risk_catalog import CatalogFactsError
        from migrations_app.engines.statements import SqlSyntaxError

        from django.conf import settings

        from migrations_app.engines.statements import ScriptInputError, decode_script

        try:
            if options["file"] == "-":
                data = sys.stdin.buffer.read()
            else:
                with open(options["file"], "rb") as fh:
                    data = fh.read()
            text = decode_script(data, settings.DATAFLOW_MAX_SCRIPT_BYTES)
        except OSError as exc:
            self.stderr.write(f"cannot read {options['file']}: {exc}")
            sys.exit(2)
        except ScriptInputError as exc:  # NUL, invalid UTF-8, over-size: refused with the position
            self.stderr.write(f"{options['file']}:{exc.line}:{exc.position}: {exc.message}")
            sys.exit(2)
        try:
            connection = TargetConnection.from_dsn(options["dsn"]) if options["dsn"] else None
            report = analyze_plan(text, connection, options["schema"], is_production=options["production"],
                                  has_backup=options["has_backup"])
        except SqlSyntaxError as exc:
            self.stderr.write(f"{options['file']}:{exc.line}:{exc.position}: syntax error: {exc.message}")
            sys.exit(2)
        except (TargetConnectionError, CatalogFactsError, DependencyAnalysisError) as exc:
            self.stderr.write(f"cannot analyse against the database: {exc}")
            sys.exit(2)
        except Exception as exc:  # noqa: BLE001 - exit 1 means "risk too high": an internal error must not say that
            self.stderr.write(f"internal error, the plan was not analysed: {type(exc).__name__}: {exc}")
            sys.exit(2)
        if options["as_json"]:
            self.stdout.write(json.dumps(report.to_dict(), indent=2 if len(report.statements) <= 200 else None, default=str))
        else:
            self._print(report)
        if report.refused:  # whatever --fail-on says: such a plan can never be approved
            for refusal in report.refused:
                self.stderr.write(f"{options['file']}:{refusal}")
            sys.exit(3)
        fail_on = options["fail_on"]
        if fail_on and LEVELS.index(report.risk.risk_level.value) >= LEVELS.index(fail_on):
            sys.exit(1)

    def _print(self, report):
        from migrations_app.engines.risk_floors import risk_effect

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
                out(f"            risk: {risk_effect(f)}")
        for err in report.errors:
            out(f"\nerror: {err}")
        risk = report.risk
        out(f"\nrisk: {risk.risk_level.value} ({risk.overall_score}/100)  "
            + "  ".join(f"{c}={s}" for c, s in risk.category_scores.items()))
        for factor in risk.risk_factors[:15]:
            out(f"  +{factor.points:<3} {factor.category:20} {factor.evidence}")
        for floor in risk.floors:
            out(f"  floor {floor['level']:8} statement {floor['statement']}: {floor['rule']}: {floor['reason']}")
        review = report.rollback_review
        if review is not None and review.risk is not None:
            out(f"rollback SQL risk: {review.risk.risk_level.value} ({review.risk.overall_score}/100), "
                f"{len(review.statements)} statement(s); the plan's risk is the larger of the two")
        if report.refused:
            out("\nREFUSED by the statement policy:")
            for refusal in report.refused:
                out(f"  {refusal}")
        plan = report.mitigation
        if plan.recommended_execution_order:
            out(f"\nmitigation (projected risk after: {plan.projected_level_after.value} {plan.projected_risk_after}/100):")
            for step in plan.recommended_execution_order:
                s = step.strategy
                out(f"  {step.order}. [{s.priority}] {s.name} ({s.estimated_effort_hours} h)")
