"""Lint benchmark: ``lint_migration`` without a database vs ``squawk --reporter json`` on the same
generated files, whole process, medians of alternating rounds.

``python benchmarks/bench_lint.py [--rounds 7] [--dsn DSN] [--baseline DIR] [--no-bytecode]``. Two
files: 20 statements (a CI or pre-commit run) and 15,000. Each round runs, one after the other,
``squawk --reporter json``, ``python -m migrations_app.lint_cli --json`` (no Django) and ``manage.py
lint_migration --json`` (the same code behind Django's start-up); the medians over the rounds are
reported, wall time and CPU time (user + system of the process), each as a ratio to squawk's in the
same run, so a burst of load on a shared machine touches every tool alike (on a loaded machine the
CPU ratio is the steadier one). Both sides write a JSON report to a pipe that is read (equal output
work). squawk comes from the ``squawk-cli`` package (installed for the benchmark only).

Each tool runs once before the timed rounds. Python's bytecode cache is on, in a temporary
``PYTHONPYCACHEPREFIX`` (the tree is not written), as after a first run in CI or pre-commit, even
where the environment sets ``PYTHONDONTWRITEBYTECODE``; ``--no-bytecode`` times compiling every
module on every run instead. ``--baseline DIR``: also time ``lint_cli`` in another checkout of the
project (``git archive <commit> | tar -x -C DIR``) in the same rounds, for before/after figures.
``--dsn``: also a 50-statement plan against the 5,000-table schema (read-only).
"""

import argparse
import os
import resource
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


def timed(argv: list[str], cwd: Path = ROOT, env: dict | None = None) -> tuple[float, float, int, int]:
    """Wall seconds, CPU seconds (user + system of the child), exit status, bytes written to stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, proc.returncode, len(proc.stdout)


def compare(tools: dict[str, tuple], rounds: int, env: dict) -> dict[str, tuple[float, float, int, int]]:
    """``tools``: name -> (argv, cwd). One untimed run each (bytecode, page cache), then the rounds."""
    walls, cpus, last = {name: [] for name in tools}, {name: [] for name in tools}, {}
    for argv, cwd in tools.values():
        timed(argv, cwd, env)
    for _ in range(rounds):
        for name, (argv, cwd) in tools.items():
            wall, cpu, code, size = timed(argv, cwd, env)
            walls[name].append(wall)
            cpus[name].append(cpu)
            last[name] = (code, size)
    return {name: (statistics.median(walls[name]), statistics.median(cpus[name]), *last[name]) for name in tools}


def child_env(tmp: str, bytecode: bool) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def in_process(path: str, dsn: str | None = None) -> dict:
    from migrations_app.engines.plan_analysis import analyze_plan
    from targets.engines.connections import TargetConnection

    report = analyze_plan(Path(path).read_text(), TargetConnection.from_dsn(dsn) if dsn else None)
    return report.timings_ms


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--dsn", help="the 5,000-table benchmark database (only read)")
    parser.add_argument("--baseline", type=Path, help="another checkout of the project, timed in the same rounds")
    parser.add_argument("--no-bytecode", action="store_true", help="compile every module on every run")
    args = parser.parse_args()
    python = str(ROOT / ".venv" / "bin" / "python")
    squawk = shutil.which("squawk", path=str(ROOT / ".venv" / "bin")) or shutil.which("squawk")
    if not squawk:
        sys.exit("squawk not installed: pip install squawk-cli into .venv")
    with tempfile.TemporaryDirectory() as tmp:
        env = child_env(tmp, bytecode=not args.no_bytecode)
        print(f"bytecode cache: {'off (every module compiled on every run)' if args.no_bytecode else 'on'}")
        for statements, goal in ((20, "<= 150 ms"), (15_000, "<= squawk's time")):
            path = os.path.join(tmp, f"migration_{statements}.sql")
            Path(path).write_text(generate(statements, 5_000))
            tools = {
                "squawk --reporter json": ([squawk, "--reporter", "json", path], ROOT),
                "python -m migrations_app.lint_cli --json": ([python, "-m", "migrations_app.lint_cli", path, "--json"], ROOT),
            }
            if args.baseline:
                tools["lint_cli --json, baseline checkout"] = (
                    [python, "-m", "migrations_app.lint_cli", path, "--json"], args.baseline.resolve())
            tools["manage.py lint_migration --json"] = ([python, "manage.py", "lint_migration", path, "--json"], ROOT)
            results = compare(tools, args.rounds, env)
            anchor_wall, anchor_cpu = results["squawk --reporter json"][:2]
            print(f"{statements} statements, no database, median of {args.rounds} alternating rounds (goal {goal}):")
            for name, (wall, cpu, code, size) in results.items():
                print(f"  {name:42} wall {wall * 1000:7.0f} ms {wall / anchor_wall:6.1f}x squawk   "
                      f"cpu {cpu * 1000:7.0f} ms {cpu / anchor_cpu:6.1f}x squawk  (exit {code}, {size / 1e6:.2f} MB of JSON)")
            print(f"  analyze_plan in process (ms): {in_process(path)}")
        if args.dsn:
            small = os.path.join(tmp, "plan50.sql")
            Path(small).write_text(generate(50, 5_000))
            live = compare({"lint_cli --dsn": ([python, "-m", "migrations_app.lint_cli", small, "--dsn", args.dsn, "--json"],
                                               ROOT)}, args.rounds, env)
            print(f"lint_cli, 50 statements, --dsn (5,000-table schema): {live['lint_cli --dsn'][0]:.2f} s")
            print(f"  analyze_plan in process (ms): {in_process(small, args.dsn)}")


if __name__ == "__main__":
    main()
