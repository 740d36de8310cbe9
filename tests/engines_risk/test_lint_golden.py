"""The lint CLI writes, byte for byte, what it wrote before it was made faster (issue #15).

The golden (``tests/fixtures/lint_golden/``, made by ``lint_golden.py`` from the code before the
change) holds standard output, standard error and exit status for 1,780 cases: every SQL snippet of
the tests and rule examples in JSON and text mode under several option sets, the snippets joined 40
to a file, and the benchmark's generated files. Only measured timings are blanked."""

import difflib
import re
import subprocess
import sys

from tests.engines_risk.lint_golden import (ROOT_DIR, _blank_timings, _placeholders, load_cases, load_golden,
                                           run_case)


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
        got = {"code": proc.returncode, "stdout": _placeholders(_blank_timings(proc.stdout), path),
               "stderr": _placeholders(proc.stderr, path)}
        assert got == golden[name], _first_difference(name, golden[name], got)


def test_blanking_keeps_the_timing_keys():
    assert _blank_timings('{"timings_ms": {"parse": 12.5, "total": 30}}') == '{"timings_ms": {"parse": 0, "total": 0}}'
    assert re.search(r'"timings_ms":\{"parse":0', _blank_timings('{"timings_ms":{"parse":1.0}}'))


def test_a_rule_with_kinds_finds_nothing_on_any_other_kind_of_statement():
    """``Rule.kinds`` lets ``lint`` skip a check: the check itself must agree on every corpus statement."""
    from migrations_app.engines.lint import RULES, LintContext
    from migrations_app.engines.statements import SqlSyntaxError, parse_script

    with_kinds = [r for r in RULES if r.kinds is not None]
    assert len(with_kinds) >= 15
    checked = 0
    for case in load_cases():
        if not case["name"].startswith(("joined-", "snippet-")) or not case["name"].endswith("-json"):
            continue
        try:
            statements = parse_script(case["sql"])
        except (SqlSyntaxError, ValueError):
            continue
        ctx = LintContext(statements)
        for stmt in statements:
            for rule in with_kinds:
                if stmt.kind not in rule.kinds:
                    assert not list(rule.checker(stmt, ctx) or ()), (rule.id, stmt.kind, stmt.sql)
                    checked += 1
    assert checked > 10_000


def test_quoting_written_out_matches_psycopg():
    """identifiers.quote_ident / literal write what psycopg.sql writes off-line (the static path loads no psycopg)."""
    import random

    from psycopg import sql

    from migrations_app.engines.statements.identifiers import ident, literal, quote_ident

    alphabet = ['a', 'Z', '"', "'", "\\", " ", "é", "\n", "$", "😀", "\t", "E", "\u2028", "_", "1"]
    rng = random.Random(15)
    for _ in range(5_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        assert quote_ident(text) == sql.Identifier(text).as_string(None), text
        assert literal(text) == sql.Literal(text).as_string(None), text
    assert ident("public", "Order", "select", "a b") == 'public."Order"."select"."a b"'


def test_the_static_path_imports_neither_psycopg_nor_django(tmp_path):
    path = tmp_path / "plan.sql"
    [case] = [c for c in load_cases() if c["name"] == "bench-300-json"]
    path.write_text(case["sql"])
    probe = (f"import sys; from migrations_app import lint_cli; lint_cli.main([{str(path)!r}, '--json']); "
             "print('loaded', sorted(m for m in ('psycopg', 'django', 'sqlglot', 'pglast.stream') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=ROOT_DIR, capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip().endswith("loaded []"), proc.stdout[-300:] + proc.stderr[-2000:]
