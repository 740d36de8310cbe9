"""Migration files -> plan operations: each step's forward SQL through the same authoring path as
pasted SQL (input checks, statement policy, rollback suggestions from the live catalog), lines
mapped back to the file, the step's down/undo/revert SQL turned into rollback SQL where it maps
one statement to one statement, and steps the target's ledger already applied left out."""

from __future__ import annotations

import dataclasses
import hashlib
import re

from integrations.migration_files import FormatError, MigrationSet, read_migration_files
from migrations_app.plan_sql import PolicyRefusal, ScriptError, script_to_operations

NO_STATEMENTS = "The script has no statements."


def is_policy_refusal(exc: ScriptError) -> bool:
    """CI exits differently for a policy refusal and for unreadable input (3 and 2, as
    lint_migration does)."""
    return isinstance(exc, PolicyRefusal)


class FilesError(Exception):
    """Input the tool cannot read (layout, encoding, syntax); ``policy`` when the statement policy refused it."""

    def __init__(self, message: str, *, policy: bool = False):
        super().__init__(message)
        self.policy = policy


@dataclasses.dataclass
class FileOperations:
    format: str
    operations: list[dict]     # for workflow.create_plan / replace_operations
    sources: list[dict]        # per operation: path, line, version, rollback_path
    skipped_versions: list[str]
    files: list[dict]          # path and sha256 of every file given

    @property
    def versions(self) -> list[str]:
        return sorted({s["version"] for s in self.sources if s["version"]})


def _located(exc: ScriptError, path: str, first_line: int) -> FilesError:
    """Our messages name lines of the part we parsed; say them as lines of the file."""
    message = re.sub(r"\bline (\d+)", lambda m: f"{path}:{int(m[1]) + first_line - 1}", str(exc))
    if path not in message:
        message = f"{path}: {message}"
    return FilesError(message, policy=is_policy_refusal(exc))


def _operations(sql_text: str, path: str, first_line: int, schema: str, target) -> list[dict]:
    try:
        return script_to_operations(sql_text, schema, target)
    except ScriptError as exc:
        if str(exc) == NO_STATEMENTS:
            return []  # a file of comments only, as Flyway and Sqitch allow
        raise _located(exc, path, first_line) from None


def _attach_rollback(forward: list[dict], step, schema: str) -> str:
    """Rollback SQL from the step's down part: the last down statement undoes the first up
    statement, and so on (how down files are written). Counts that differ are not guessed at."""
    down = _operations(step.down_sql, step.down_path, step.down_line, schema, None)
    if not down:
        return ""
    if len(down) != len(forward):
        return (f"{step.down_path}: {len(down)} rollback statement(s) for {len(forward)} forward statement(s); "
                "not paired, the suggested rollback is kept")
    for op, undo in zip(forward, reversed(down)):
        op["rollback_sql"] = undo["sql"]
        op["rollback_note"] = f"from {step.down_path}:{step.down_line + undo['line'] - 1}"
    return ""


def operations_from_files(files: list[tuple[str, str]], *, schema: str, target=None, format: str | None = None,
                          applied: set[str] | frozenset = frozenset()) -> FileOperations:
    try:
        migration_set: MigrationSet = read_migration_files(files, format).without(set(applied))
    except FormatError as exc:
        raise FilesError(str(exc)) from None
    operations, sources = [], []
    for step in migration_set.steps:
        forward = _operations(step.up_sql, step.path, step.up_line, schema, target)
        for op in forward:
            op["line"] = step.up_line + op["line"] - 1
        note = _attach_rollback(forward, step, schema) if step.has_down and forward else ""
        for op in forward:
            if note:
                op["rollback_note"] = note[:500]
            operations.append(op)
            sources.append({"path": step.path, "line": op["line"], "version": step.version,
                            "rollback_path": step.down_path if step.has_down else ""})
    if not operations and not migration_set.skipped:
        raise FilesError("the files hold no SQL statement")
    digests = [{"path": path, "sha256": hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()}
               for path, text in files]
    return FileOperations(migration_set.format, operations, sources, migration_set.skipped, digests)
