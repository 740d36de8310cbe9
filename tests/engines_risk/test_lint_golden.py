"""The lint CLI writes, byte for byte, what it wrote before it was made faster (issue #15).

The golden (``tests/fixtures/lint_golden/``, made by ``lint_golden.py`` from the code before the
change) holds standard output, standard error and exit status for 1,780 cases: every SQL snippet of
the tests and rule examples in JSON and text mode under several option sets, the snippets joined 40
to a file, and the benchmark's generated files. Only measured timings are blanked."""

import difflib
import re
import subprocess
import sys

from tests.engines_risk.lint_golden import ROOT_DIR, _blank_timings, load_cases, load_golden, run_case


def _first_difference(name: str, want: dict, got: dict) -> str:
    for key in ("code", "stderr", "stdout"):
        if want[key] != got[key]:
            if key == "code":
                return f"{name}: exit {got['code']}, golden {want['code']}"
            diff = difflib.unified_diff(str(want[key]).splitlines(), str(got[key]).splitlines(), "golden", "now",
                                        lineterm="", n=2)
            return f"{name} ({key}):\n" + "\n".join(list(diff)[:30])
    return name


def test_every_case_of_the_corpus_writes_the_golden_output(tmp_path):
    golden = load_golden()
    cases = load_cases()
    assert len(cases) == len(golden) >= 1700
    differing = []
    for case in cases:
        got = run_case(case, tmp_path)
        if got != golden[case["name"]]:
            differing.append(_first_difference(case["name"], golden[case["name"]], got))
    assert not differing, f"{len(differing)} case(s) differ from the golden; first:\n" + "\n\n".join(differing[:3])


def test_the_corpus_covers_refusals_blocking_errors_syntax_errors_and_clean_plans():
    codes = {}
    for result in load_golden().values():
        codes[result["code"]] = codes.get(result["code"], 0) + 1
    assert all(codes.get(code, 0) >= 20 for code in (0, 1, 2, 3)), codes


def test_the_module_run_as_ci_runs_it_writes_the_golden_bytes(tmp_path):
    """The whole process (no garbage collector, no teardown) on the benchmark's 300 statements."""
    golden = load_golden()
    for name in ("bench-300-json", "bench-20-text"):
        [case] = [c for c in load_cases() if c["name"] == name]
        path = tmp_path / "case.sql"
        path.write_text(case["sql"])
        proc = subprocess.run([sys.executable, "-m", "migrations_app.lint_cli", str(path), *case["args"]],
                              cwd=ROOT_DIR, capture_output=True, text=True, timeout=120)
        got = {"code": proc.returncode, "stdout": _blank_timings(proc.stdout).replace(str(path), "<file>"),
               "stderr": proc.stderr.replace(str(path), "<file>")}
        assert got == golden[name], _first_difference(name, golden[name], got)


def test_blanking_keeps_the_timing_keys():
    assert _blank_timings('{"timings_ms": {"parse": 12.5, "total": 30}}') == '{"timings_ms": {"parse": 0, "total": 0}}'
    assert re.search(r'"timings_ms":\{"parse":0', _blank_timings('{"timings_ms":{"parse":1.0}}'))
