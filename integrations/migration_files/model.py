"""The shapes every format reader returns."""

from __future__ import annotations

import dataclasses
import re

# format -> what a team hands us; the refusal of an unknown layout names all of them
FORMATS = {
    "sqitch": "Sqitch: sqitch.plan with deploy/<change>.sql (and revert/<change>.sql)",
    "flyway": "Flyway: V<version>__<description>.sql (and U<version>__<description>.sql undo files)",
    "golang-migrate": "golang-migrate: <version>_<name>.up.sql (and <version>_<name>.down.sql)",
    "liquibase": "Liquibase formatted SQL: '--liquibase formatted sql', '--changeset author:id', '--rollback ...'",
    "dbmate": "dbmate: <version>_<name>.sql with '-- migrate:up' (and '-- migrate:down')",
    "alembic": "Alembic: the output of 'alembic upgrade --sql' ('-- Running upgrade A -> B' sections)",
    "django": "Django: the output of 'manage.py sqlmigrate' (BEGIN; ... COMMIT; with '-- Operation' headers)",
    "sql": "plain SQL: one .sql file, or .sql files whose names start with their order (001_init.sql, ...)",
}


class FormatError(Exception):
    """The files are not a layout we read; the message says what was expected."""


@dataclasses.dataclass
class MigrationStep:
    version: str
    path: str
    up_sql: str
    up_line: int = 1            # line of ``path`` where ``up_sql`` starts
    down_sql: str = ""
    down_path: str = ""
    down_line: int = 1
    description: str = ""

    @property
    def has_down(self) -> bool:
        return bool(self.down_sql.strip())


@dataclasses.dataclass
class MigrationSet:
    format: str
    steps: list[MigrationStep]
    skipped: list[str] = dataclasses.field(default_factory=list)

    def without(self, applied: set[str]) -> "MigrationSet":
        """The steps whose version is not in ``applied`` (the target's ledger)."""
        keep = [s for s in self.steps if not s.version or s.version not in applied]
        skipped = [s.version for s in self.steps if s.version and s.version in applied]
        return MigrationSet(self.format, keep, skipped)


def version_key(version: str) -> tuple:
    """``1.10`` after ``1.9``; digits compare as numbers, the rest as text."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"[._]", version) if part != "")


def basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


# Tools that print one transaction around their output (sqlmigrate, alembic --sql, sqitch scripts):
# the executor supplies the transaction, and the statement policy refuses transaction control, so
# these exact lines are blanked (keeping every other line where it was).
_WRAPPER_LINES = {"BEGIN;", "COMMIT;", "START TRANSACTION;", "BEGIN TRANSACTION;", "END;"}


def without_transaction_wrapper(text: str) -> str:
    return "\n".join("" if line.strip().upper() in _WRAPPER_LINES else line for line in text.split("\n"))


def section(lines: list[str], start: int, end: int) -> str:
    """Lines ``start``..``end - 1`` (0-based) joined back into text."""
    return "\n".join(lines[start:end])
