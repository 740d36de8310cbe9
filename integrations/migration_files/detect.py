"""Which format a set of files is in: decided by names and markers, never guessed between two."""

from __future__ import annotations

from integrations.migration_files import readers
from integrations.migration_files.model import FORMATS, FormatError, MigrationSet, basename


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.split("\n") if line.strip()), "")


def _is_sqlmigrate(text: str) -> bool:
    return _first_line(text).upper() == "BEGIN;" and "\n--\n-- " in text.replace("\r\n", "\n")


def detect_format(files: list[tuple[str, str]]) -> str:
    names = [basename(path) for path, _ in files]
    texts = [text for _, text in files]
    if "sqitch.plan" in names or any("/deploy/" in "/" + path for path, _ in files):
        return "sqitch"
    if all(readers.FLYWAY.match(n) for n in names):
        return "flyway"
    if all(readers.GOLANG.match(n) for n in names):
        return "golang-migrate"
    if all(readers.LIQUIBASE_HEADER.match(_first_line(t)) for t in texts):
        return "liquibase"
    if all(any(readers.DBMATE_UP.match(line) for line in t.split("\n")) for t in texts):
        return "dbmate"
    if all(any(readers.ALEMBIC_RUNNING.match(line) for line in t.split("\n")) for t in texts):
        return "alembic"
    if all(_is_sqlmigrate(t) for t in texts):
        return "django"
    if all(n.endswith(".sql") for n in names) and (len(files) == 1 or all(readers.LEADING_NUMBER.match(n) for n in names)):
        return "sql"
    expected = "\n".join(f"  - {text}" for text in FORMATS.values())
    raise FormatError(f"unknown layout of {len(files)} file(s) ({', '.join(sorted(names)[:5])}"
                      f"{', ...' if len(names) > 5 else ''}); expected one of:\n{expected}")


READERS = {
    "sqitch": readers.read_sqitch, "flyway": readers.read_flyway, "golang-migrate": readers.read_golang_migrate,
    "liquibase": readers.read_liquibase, "dbmate": readers.read_dbmate, "alembic": readers.read_alembic,
    "django": readers.read_django, "sql": readers.read_plain,
}


def read_migration_files(files: list[tuple[str, str]], format: str | None = None) -> MigrationSet:
    """``files``: (path relative to the repository, text). ``format`` None: detected."""
    if not files:
        raise FormatError("no files given")
    paths = [path for path, _ in files]
    if len(set(paths)) != len(paths):
        raise FormatError("the same path is given twice")
    if format is not None and format not in READERS:
        raise FormatError(f"unknown format {format!r}; one of: {', '.join(READERS)}")
    chosen = format or detect_format(files)
    if chosen == "sqitch":
        files = [(p, t) for p, t in files if "/verify/" not in "/" + p]  # verify scripts are not part of the change
    steps = READERS[chosen](files)
    if not any(step.up_sql.strip() for step in steps):
        raise FormatError(f"{FORMATS[chosen].split(':')[0]} files with no forward SQL")
    return MigrationSet(chosen, steps)
