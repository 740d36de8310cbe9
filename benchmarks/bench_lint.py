"""Lint benchmark: ``lint_migration`` without a database vs ``squawk --reporter json`` on the same
generated files, whole process, medians of alternating rounds.

``python benchmarks/bench_lint.py [--rounds 7] [--dsn DSN]``. Two files: 20 statements (a CI or
pre-commit run) and 15,000. Each round runs, one after the other, ``squawk --reporter json``,
``python -m migrations_app.lint_cli --json`` (no Django) and ``manage.py lint_migration --json``
(the same code behind Django's start-up); the medians over the rounds are reported, so a burst
of load on a shared machine touches every tool alike. Both sides write a JSON report to a pipe
that is read (equal output work). squawk comes from the ``squawk-cli`` package (installed for the
benchmark only). ``--dsn``: also a 50-statement plan against the 5,000-table schema (read-only).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.gen_migration import generate  # noqa: E402


def timed(argv: list[str]) -> tuple[float, int, int]:
    """Seconds, exit status, bytes written to stdout."""
    started = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - started, proc.returncode, len(proc.stdout)


def compare(tools: dict[str, list[str]], rounds: int) -> dict[str, tuple[float, int, int]]:
    times = {name: [] for name in tools}
    last = {}
    for _ in range(rounds):
        for name, argv in tools.items():
            seconds, code, size = timed(argv)
            times[name].append(seconds)
            last[name] = (code, size)
    return {name: (statistics.median(times[name]), *last[name]) for name in tools}


def in_process(path: str, dsn: str | None = None) -> dict:
    from migrations_app.engines.plan_analysis import analyze_plan
    from targets.engines.connections import TargetConnection

    report = analyze_plan(Path(path).read_text(), TargetConnection.from_dsn(dsn) if dsn else None)
    return report.timings_ms


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--dsn", help="the 5,000-table benchmark database (only read)")
    args = parser.parse_args()
    python = str(ROOT / ".venv" / "bin" / "python")
    squawk = shutil.which("squawk", path=str(ROOT / ".venv" / "bin")) or shutil.which("squawk")
    if not squawk:
        sys.exit("squawk not installed: pip install squawk-cli into .venv")
    with tempfile.TemporaryDirectory() as tmp:
        for statements, goal in ((20, "<= 150 ms"), (15_000, "<= squawk's time")):
            path = os.path.join(tmp, f"migration_{statements}.sql")
            Path(path).write_text(generate(statements, 5_000))
            results = compare({
                "squawk --reporter json": [squawk, "--reporter", "json", path],
                "python -m migrations_app.lint_cli --json": [python, "-m", "migrations_app.lint_cli", path, "--json"],
                "manage.py lint_migration --json": [python, "manage.py", "lint_migration", path, "--json"],
            }, args.rounds)
            anchor = results["squawk --reporter json"][0]
            print(f"{statements} statements, no database, median of {args.rounds} alternating rounds (goal {goal}):")
            for name, (seconds, code, size) in results.items():
                print(f"  {name:42} {seconds * 1000:8.0f} ms  {seconds / anchor:6.1f}x squawk  "
                      f"(exit {code}, {size / 1e6:.2f} MB of JSON)")
            print(f"  analyze_plan in process (ms): {in_process(path)}")
        if args.dsn:
            small = os.path.join(tmp, "plan50.sql")
            Path(small).write_text(generate(50, 5_000))
            live = compare({"lint_cli --dsn": [python, "-m", "migrations_app.lint_cli", small, "--dsn", args.dsn, "--json"]},
                           args.rounds)
            print(f"lint_cli, 50 statements, --dsn (5,000-table schema): {live['lint_cli --dsn'][0]:.2f} s")
            print(f"  analyze_plan in process (ms): {in_process(small, args.dsn)}")


if __name__ == "__main__":
    main()
