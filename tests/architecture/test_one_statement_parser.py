"""One statement model: only ``migrations_app/engines/statements/`` parses migration SQL.

The PL/pgSQL body readers of the dependency analyzer parse *routine bodies from the catalog* (not
plan SQL), and one lint rule uses the scanner for identifier lengths; everything else goes through
the statement model, so review, rollback planning, rehearsal and execution cannot disagree."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {
    "migrations_app/engines/statements/",
    "migrations_app/engines/dependencies/plpgsql_refs.py",          # catalog routine bodies (dependency analysis)
    "migrations_app/engines/dependencies/plpgsql_declarations.py",  # catalog routine bodies (dependency analysis)
    "migrations_app/engines/lint/identifier_too_long.py",  # the scanner, for identifier lengths
}


def _imports_pglast(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "pglast" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "pglast":
            return True
    return False


def test_only_the_statement_model_parses_migration_sql():
    offenders = []
    for app in ("migrations_app", "staging_app", "baselines_app", "dataflow_site"):
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if any(relative == allowed or relative.startswith(allowed) for allowed in ALLOWED if allowed.endswith("/")) \
                    or relative in ALLOWED:
                continue
            if _imports_pglast(path):
                offenders.append(relative)
    assert not offenders, f"these modules parse SQL outside the statement model: {offenders}"
