"""Lint benchmark: ``lint_migration`` without a database vs ``squawk`` on the same generated file,
and optionally a 50-statement plan with ``--dsn`` against the 5,000-table schema (read-only).

``python benchmarks/bench_lint.py [--statements 15000] [--dsn DSN] [--repeat 3]``. Each tool is
run as a separate process (what CI does), timed wall-clock, best of ``--repeat``. squawk comes
from the ``squawk-cli`` package (installed for the benchmark only).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.gen_migration import generate  # noqa: E402


def best_of(repeat: int, argv: list[str], env=None) -> tuple[float, int]:
    best, code = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
        best = min(best, time.perf_counter() - started)
        code = proc.returncode
    return best, code


def in_process(path: str, dsn: str | None = None) -> float:
    from migrations_app.engines.connections import TargetConnection
    from migrations_app.engines.plan_analysis import analyze_plan

    text = Path(path).read_text()
    started = time.perf_counter()
    analyze_plan(text, TargetConnection.from_dsn(dsn) if dsn else None)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--statements", type=int, default=15_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dsn", help="the 5,000-table benchmark database (only read)")
    args = parser.parse_args()
    python = str(ROOT / ".venv" / "bin" / "python")
    squawk = shutil.which("squawk", path=str(ROOT / ".venv" / "bin")) or shutil.which("squawk")
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "migration.sql")
        Path(path).write_text(generate(args.statements, 5_000))
        ours, code = best_of(args.repeat, [python, "manage.py", "lint_migration", path, "--json"], env)
        print(f"lint_migration, {args.statements} statements, no database: {ours:.2f} s (exit {code})")
        print(f"  analyze_plan in process (no interpreter/Django start-up): {in_process(path):.2f} s")
        if squawk:
            theirs, code = best_of(args.repeat, [squawk, path], env)
            print(f"squawk {args.statements} statements: {theirs:.2f} s (exit {code})")
            print(f"ratio lint_migration / squawk: {ours / theirs:.2f}")
        else:
            print("squawk not installed (pip install squawk-cli into .venv to compare)")
        if args.dsn:
            small = os.path.join(tmp, "plan50.sql")
            Path(small).write_text(generate(50, 5_000))
            live, code = best_of(args.repeat, [python, "manage.py", "lint_migration", small, "--dsn", args.dsn, "--json"], env)
            print(f"lint_migration, 50 statements, --dsn (5,000-table schema): {live:.2f} s (exit {code})")
            print(f"  analyze_plan in process: {in_process(small, args.dsn):.2f} s")


if __name__ == "__main__":
    main()
