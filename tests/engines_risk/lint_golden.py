"""The lint CLI's output on a fixed corpus, frozen: ``tests/fixtures/lint_golden/``.

``corpus.json`` holds the cases: every SQL snippet the tests and the rule examples held when it
was made (one file each, in JSON and in text mode, under several option sets), the same snippets
joined 40 to a file (rules that read earlier statements, ignores, transactions), and the
benchmark's generated files (20 and 300 statements: the indented and the compact JSON).
``golden.json.gz`` is what ``lint_cli.run`` wrote for each case (standard output, standard error,
exit status) before the linter was made faster; ``test_lint_golden.py`` runs the cases again and
compares byte for byte. Only the values of ``timings_ms`` are blanked (they are measured), and the
paths of the case and policy files are placeholders (the checkout's folder differs in CI).

``python -m tests.engines_risk.lint_golden`` rewrites the golden from the current code: do that
only for a deliberate change of the output, and say so in the commit.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path

ROOT_DIR = Path(__file__).resolve().parents[2]
HERE = ROOT_DIR / "tests" / "fixtures" / "lint_golden"
CORPUS = HERE / "corpus.json"
GOLDEN = HERE / "golden.json.gz"
POLICY = HERE / "all_rules_on.toml"
TIMINGS = re.compile(r'("timings_ms":\s*\{)([^{}]*)(\})')
NUMBER = re.compile(r'(":\s*)-?[0-9][0-9.eE+-]*')


def load_cases() -> list[dict]:
    return json.loads(CORPUS.read_text(encoding="utf-8"))


def _blank_timings(text: str) -> str:
    return TIMINGS.sub(lambda m: m.group(1) + NUMBER.sub(r"\g<1>0", m.group(2)) + m.group(3), text)


def run_case(case: dict, directory: Path) -> dict:
    """What ``python -m migrations_app.lint_cli FILE ARGS`` writes for this case, in process."""
    from migrations_app import lint_cli
    from migrations_app.engines.statements import DEFAULT_MAX_SCRIPT_BYTES

    path = directory / "case.sql"
    path.write_text(case["sql"], encoding="utf-8")
    args = [a.replace("{policy}", str(POLICY)) for a in case["args"]]
    parser = argparse.ArgumentParser()
    lint_cli.add_arguments(parser)
    options = vars(parser.parse_args([str(path), *args]))
    out, err = [], []

    def write(into):
        return lambda text: into.append(text if text.endswith("\n") else text + "\n")

    code = lint_cli.run(options, DEFAULT_MAX_SCRIPT_BYTES, write(out), write(err))
    return {"code": code, "stdout": _placeholders(_blank_timings("".join(out)), path),
            "stderr": _placeholders("".join(err), path)}


def _placeholders(text: str, path: Path) -> str:
    """The checkout's own paths (the case file, the policy file) as placeholders: CI runs elsewhere."""
    return text.replace(str(path), "<file>").replace(str(POLICY), "<policy>")


def load_golden() -> dict:
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def main() -> None:
    import tempfile

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for case in load_cases():
            results[case["name"]] = run_case(case, Path(tmp))
    with gzip.GzipFile(GOLDEN, "wb", mtime=0) as fh:
        fh.write(json.dumps(results, indent=0, sort_keys=True).encode())
    print(f"wrote {len(results)} cases to {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    main()
