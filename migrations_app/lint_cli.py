"""The ``lint_migration`` CLI without Django: ``python -m migrations_app.lint_cli FILE|- [options]``.

CI and pre-commit run it once per file, so start-up is most of its time: settling Django's app
registry cost 0.9 s of a 20-statement run that the analysis itself finishes in 10 ms. This
module imports only the engines (which import nothing from Django); ``manage.py lint_migration``
calls the same ``run`` with the project's settings. Exit status 1 when the plan's risk reaches
``--fail-on`` or an error finding blocks the gate under the review policy (``--policy FILE``), 2 when the input cannot be read or parsed (NUL, invalid UTF-8, over-size, syntax)
or the database cannot be read, 3 when a statement (or its rollback) is refused by the policy.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from typing import Callable

LEVELS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
DESCRIPTION = "Analyse a SQL migration: lock modes, rewrites, lint findings, risk and mitigation."


def add_arguments(parser) -> None:
    parser.add_argument("file", help="SQL file, or - for standard input")
    parser.add_argument("--dsn", help="connection string of the target database (read-only use)")
    parser.add_argument("--schema", default="public")
    parser.add_argument("--json", action="store_true", dest="as_json")
    parser.add_argument("--fail-on", choices=LEVELS, type=str.upper)
    parser.add_argument("--production", action="store_true", help="the target is production")
    parser.add_argument("--has-backup", action="store_true", help="a verified backup exists")
    parser.add_argument("--policy", metavar="FILE",
                        help="review policy file (TOML or JSON, the format of the policy page; see docs/rules.md)")
    parser.add_argument("--environment", choices=("development", "staging", "production"),
                        help="whose section of the policy applies (default: production with --production, "
                             "else development)")


def run(options: dict, max_script_bytes: int, out: Callable[[str], None], err: Callable[[str], None], *,
        out_bytes: Callable[[bytes], None] | None = None) -> int:
    """Analyse ``options["file"]``, write the report with ``out`` and problems with ``err``; the exit status.
    ``out_bytes``: where the JSON report goes as the UTF-8 bytes orjson writes (the same text as ``out``
    gets, without decoding and re-encoding tens of megabytes for a large plan)."""
    from migrations_app.engines.statements import ScriptInputError, SqlSyntaxError, decode_script

    try:
        if options["file"] == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(options["file"], "rb") as fh:
                data = fh.read()
        text = decode_script(data, max_script_bytes)
    except OSError as exc:
        err(f"cannot read {options['file']}: {exc}")
        return 2
    except ScriptInputError as exc:  # NUL, invalid UTF-8, over-size: refused with the position
        err(f"{options['file']}:{exc.line}:{exc.position}: {exc.message}")
        return 2
    from migrations_app.engines.plan_analysis import analyze_plan

    policy = _review_policy(options, err)
    if policy is None:
        return 2
    try:
        connection = None
        if options.get("dsn"):
            from targets.engines.connections import TargetConnection

            connection = TargetConnection.from_dsn(options["dsn"])
        report = analyze_plan(text, connection, options.get("schema") or "public",
                              is_production=bool(options.get("production")), has_backup=bool(options.get("has_backup")),
                              review_policy=policy)
    except SqlSyntaxError as exc:
        err(f"{options['file']}:{exc.line}:{exc.position}: syntax error: {exc.message}")
        return 2
    except Exception as exc:  # noqa: BLE001 - exit 1 means "risk too high": an internal error must not say that
        if _is_database_error(exc):
            err(f"cannot analyse against the database: {exc}")
        else:
            err(f"internal error, the plan was not analysed: {type(exc).__name__}: {exc}")
        return 2
    if options.get("as_json"):
        data = report.to_dict()
        indent = len(report.statements) <= 200
        encoded = _json_bytes(data, indent=indent) if out_bytes is not None else None
        if encoded is not None:
            out_bytes(encoded + b"\n")
        else:
            out(_json(data, indent=indent))
    else:
        _print(report, out)
    if report.policy.get("blocking"):  # an error the policy says blocks the gate fails CI like the gate
        for blocked in report.policy["blocking"]:
            err(f"{options['file']}:{blocked['line']}: {blocked['rule']} blocks the gate under the review policy")
    if report.refused:  # whatever --fail-on says: such a plan can never be approved
        for refusal in report.refused:
            err(f"{options['file']}:{refusal}")
        return 3
    fail_on = options.get("fail_on")
    if fail_on and LEVELS.index(report.risk.risk_level.value) >= LEVELS.index(fail_on):
        return 1
    if report.policy.get("blocking"):
        return 1
    return 0


def _review_policy(options: dict, err: Callable[[str], None]):
    """The policy for this run: the file's section for the environment, or the built-in default."""
    from migrations_app.engines.lint.review_policy import PolicyError, ReviewPolicy, load_policy_text, policy_for

    environment = options.get("environment") or ("production" if options.get("production") else "development")
    if options.get("review_policy") is not None:  # manage.py lint_migration: the policy stored in the app
        return options["review_policy"](environment) if callable(options["review_policy"]) else options["review_policy"]
    if not options.get("policy"):
        return ReviewPolicy(environment)
    try:
        with open(options["policy"], encoding="utf-8") as fh:
            document = load_policy_text(fh.read(), name=options["policy"])
        return policy_for(document, environment, source=f"{options['policy']} ({environment})")
    except OSError as exc:
        err(f"cannot read the policy {options['policy']}: {exc}")
    except PolicyError as exc:
        for problem in exc.problems:
            err(f"{options['policy']}: {problem}")
    return None


def _is_database_error(exc: Exception) -> bool:
    # Imported here, after the failure: a static run never loads psycopg's error classes for this.
    from migrations_app.engines.dependencies import DependencyAnalysisError
    from migrations_app.engines.risk import CatalogFactsError
    from targets.engines.connections import TargetConnectionError

    return isinstance(exc, (TargetConnectionError, CatalogFactsError, DependencyAnalysisError))


def _json(data: dict, *, indent: bool) -> str:
    encoded = _json_bytes(data, indent=indent)
    if encoded is None:  # the standard library writes the same document, about 5x slower on large plans
        return json.dumps(data, indent=2 if indent else None, default=str)
    return encoded.decode()


def _json_bytes(data: dict, *, indent: bool) -> bytes | None:
    """The JSON document as UTF-8 bytes from orjson; None without orjson."""
    try:
        import orjson
    except ImportError:
        return None
    options = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if indent else 0)  # int keys, as json.dumps writes them
    return orjson.dumps(data, default=str, option=options)


def _print(report, out: Callable[[str], None]) -> None:
    from migrations_app.engines.risk import risk_effect

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
    for error in report.errors:
        out(f"\nerror: {error}")
    policy = report.policy or {}
    out(f"\npolicy: {policy.get('source')}: {policy.get('ignored_count', 0)} finding(s) ignored, "
        f"{sum((policy.get('switched_off') or {}).values())} switched off, {len(policy.get('blocking') or [])} blocking")
    for ignored in policy.get("ignored") or []:
        out(f"  ignored line {ignored['line']} {ignored['rule']}: {ignored['reason']}")
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


def main(argv: list[str] | None = None) -> int:
    from dataflow_site.env import env_int  # the same variable and default as the settings
    from migrations_app.engines.statements import DEFAULT_MAX_SCRIPT_BYTES

    parser = argparse.ArgumentParser(prog="python -m migrations_app.lint_cli", description=DESCRIPTION)
    add_arguments(parser)
    options = vars(parser.parse_args(argv))

    def write(stream):
        return lambda text: stream.write(text if text.endswith("\n") else text + "\n")

    def write_bytes(data: bytes) -> None:
        sys.stdout.flush()  # whatever went through the text layer first stays first
        sys.stdout.buffer.write(data)

    return run(options, env_int("DATAFLOW_MAX_SCRIPT_BYTES", DEFAULT_MAX_SCRIPT_BYTES), write(sys.stdout), write(sys.stderr),
               out_bytes=write_bytes)


def _exit_now(code: int) -> None:
    """Leave without tearing down the parse trees one object at a time (seconds for a large
    plan, after the report is already written): nothing is left to flush but the two streams."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    # A one-shot process whose objects all live until it exits: the collector only re-walks
    # every parse tree (2 s of a 15,000-statement run) and frees nothing (same peak RSS).
    gc.disable()
    _exit_now(main())
