"""One reader per format: files in, ordered ``MigrationStep``s out, with their lines kept."""

from __future__ import annotations

import re

from integrations.migration_files.model import (
    FormatError, MigrationStep, basename, section, version_key, without_transaction_wrapper)

Files = list[tuple[str, str]]

FLYWAY = re.compile(r"^(?P<kind>[VU])(?P<version>\d[\w.]*?)__(?P<desc>.+)\.sql$")
GOLANG = re.compile(r"^(?P<version>\d+)_(?P<desc>.+)\.(?P<dir>up|down)\.sql$")
LEADING_NUMBER = re.compile(r"^(?P<version>\d[\d._]*)[_\-.]?(?P<desc>.*)\.sql$")
LIQUIBASE_HEADER = re.compile(r"^\s*--\s*liquibase\s+formatted\s+sql\s*$", re.IGNORECASE)
LIQUIBASE_CHANGESET = re.compile(r"^\s*--\s*changeset\s+(?P<author>[^:\s]+):(?P<id>\S+)", re.IGNORECASE)
LIQUIBASE_ROLLBACK = re.compile(r"^\s*--\s*rollback\s?(?P<sql>.*)$", re.IGNORECASE)
DBMATE_UP = re.compile(r"^\s*--\s*migrate:up\b", re.IGNORECASE)
DBMATE_DOWN = re.compile(r"^\s*--\s*migrate:down\b", re.IGNORECASE)
ALEMBIC_RUNNING = re.compile(r"^--\s*Running (?P<dir>upgrade|downgrade)\s+(?P<src>[\w, ]*?)\s*->\s*(?P<dst>[\w, ]*?)\s*$")


def _single(text: str, path: str, version: str, description: str = "") -> MigrationStep:
    return MigrationStep(version=version, path=path, up_sql=text, up_line=1, description=description)


# Flyway ---------------------------------------------------------------------------------------

def read_flyway(files: Files) -> list[MigrationStep]:
    forward, undo = {}, {}
    for path, text in files:
        match = FLYWAY.match(basename(path))
        if not match:
            raise FormatError(f"{path}: not a Flyway name; expected V<version>__<description>.sql or "
                              "U<version>__<description>.sql (repeatable R__ migrations are not supported: "
                              "Flyway re-runs them whenever they change, which a reviewed plan cannot follow)")
        version = match["version"].replace("_", ".")
        book = forward if match["kind"] == "V" else undo
        if version in book:
            raise FormatError(f"{path}: version {version} appears twice ({book[version][0]})")
        book[version] = (path, text, match["desc"].replace("_", " "))
    orphans = sorted(set(undo) - set(forward), key=version_key)
    if orphans:
        raise FormatError(f"undo files without their V file: {', '.join('U' + v for v in orphans)}")
    steps = []
    for version in sorted(forward, key=version_key):
        path, text, desc = forward[version]
        step = _single(text, path, version, desc)
        if version in undo:
            step.down_path, step.down_sql = undo[version][0], undo[version][1]
        steps.append(step)
    return steps


# golang-migrate -------------------------------------------------------------------------------

def read_golang_migrate(files: Files) -> list[MigrationStep]:
    ups, downs = {}, {}
    for path, text in files:
        match = GOLANG.match(basename(path))
        if not match:
            raise FormatError(f"{path}: not a golang-migrate name; expected <version>_<name>.up.sql or .down.sql")
        (ups if match["dir"] == "up" else downs)[int(match["version"])] = (path, text, match["desc"])
    orphans = sorted(set(downs) - set(ups))
    if orphans:
        raise FormatError(f"down files without their up file: versions {', '.join(map(str, orphans))}")
    steps = []
    for version in sorted(ups):
        path, text, desc = ups[version]
        step = _single(text, path, str(version), desc.replace("_", " "))
        if version in downs:
            step.down_path, step.down_sql = downs[version][0], downs[version][1]
        steps.append(step)
    return steps


# dbmate ---------------------------------------------------------------------------------------

def read_dbmate(files: Files) -> list[MigrationStep]:
    steps = []
    for path, text in sorted(files, key=lambda f: version_key(_leading_version(f[0]))):
        lines = text.split("\n")
        up = next((i for i, line in enumerate(lines) if DBMATE_UP.match(line)), None)
        if up is None:
            raise FormatError(f"{path}: no '-- migrate:up' line (dbmate)")
        down = next((i for i, line in enumerate(lines) if DBMATE_DOWN.match(line)), len(lines))
        if down < up:
            raise FormatError(f"{path}: '-- migrate:down' comes before '-- migrate:up'")
        step = MigrationStep(version=_leading_version(path), path=path, up_sql=section(lines, up + 1, down),
                             up_line=up + 2)
        if down < len(lines):
            step.down_path, step.down_sql, step.down_line = path, section(lines, down + 1, len(lines)), down + 2
        steps.append(step)
    return steps


def _leading_version(path: str) -> str:
    match = LEADING_NUMBER.match(basename(path))
    if not match:
        raise FormatError(f"{path}: the name does not start with its version (e.g. 20240101120000_add_email.sql)")
    return match["version"].rstrip("._")


# Liquibase formatted SQL ----------------------------------------------------------------------

def read_liquibase(files: Files) -> list[MigrationStep]:
    steps, seen = [], {}
    for path, text in sorted(files):
        lines = text.split("\n")
        starts = [i for i, line in enumerate(lines) if LIQUIBASE_CHANGESET.match(line)]
        if not starts:
            raise FormatError(f"{path}: no '--changeset author:id' line (Liquibase formatted SQL)")
        for n, start in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else len(lines)
            match = LIQUIBASE_CHANGESET.match(lines[start])
            version = f"{match['author']}:{match['id']}"
            if version in seen:
                raise FormatError(f"{path}:{start + 1}: changeset {version} already defined at {seen[version]}")
            seen[version] = f"{path}:{start + 1}"
            body, rollback, rollback_line = [], [], None
            for i in range(start + 1, end):
                rb = LIQUIBASE_ROLLBACK.match(lines[i])
                if rb:
                    rollback.append(rb["sql"])
                    rollback_line = rollback_line or i + 1
                    body.append("")  # keep the forward SQL's line numbers
                else:
                    body.append(lines[i])
            step = MigrationStep(version=version, path=path, up_sql="\n".join(body), up_line=start + 2)
            if rollback and any(r.strip() and r.strip().lower() != "empty" for r in rollback):
                step.down_path, step.down_sql, step.down_line = path, "\n".join(rollback), rollback_line
            steps.append(step)
    return steps


# Sqitch ---------------------------------------------------------------------------------------

def read_sqitch(files: Files) -> list[MigrationStep]:
    plans = [(path, text) for path, text in files if basename(path) == "sqitch.plan"]
    if len(plans) != 1:
        raise FormatError("Sqitch: expected exactly one sqitch.plan naming the deploy order "
                          f"({len(plans)} given)")
    plan_path, plan_text = plans[0]
    root = plan_path[: -len("sqitch.plan")]
    by_path = {path: text for path, text in files}
    changes = []
    for number, line in enumerate(plan_text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped or stripped[0] in "%#@":
            continue
        name = stripped.split()[0]
        if name in changes:
            raise FormatError(f"{plan_path}:{number}: change {name} is reworked; reworked Sqitch changes "
                              "are not supported")
        changes.append(name)
    if not changes:
        raise FormatError(f"{plan_path}: names no change")
    steps = []
    for name in changes:
        deploy = f"{root}deploy/{name}.sql"
        if deploy not in by_path:
            raise FormatError(f"Sqitch: {plan_path} names {name}, but {deploy} is not among the files")
        step = _single(without_transaction_wrapper(by_path[deploy]), deploy, name)
        revert = f"{root}revert/{name}.sql"
        if revert in by_path:
            step.down_path, step.down_sql = revert, without_transaction_wrapper(by_path[revert])
        steps.append(step)
    return steps


# Alembic (offline SQL) ------------------------------------------------------------------------

def read_alembic(files: Files) -> list[MigrationStep]:
    upgrades, downgrades = [], {}
    for path, text in files:
        lines = without_transaction_wrapper(text).split("\n")
        marks = [(i, ALEMBIC_RUNNING.match(line)) for i, line in enumerate(lines)]
        marks = [(i, m) for i, m in marks if m]
        if not marks:
            raise FormatError(f"{path}: no '-- Running upgrade' line (alembic upgrade --sql)")
        if marks[0][0] > 0 and section(lines, 0, marks[0][0]).strip():
            if marks[0][1]["dir"] == "upgrade":  # the version table's CREATE TABLE, before the first revision
                upgrades.append(MigrationStep(version="", path=path, up_sql=section(lines, 0, marks[0][0]),
                                              description="alembic version table"))
        for n, (i, match) in enumerate(marks):
            end = marks[n + 1][0] if n + 1 < len(marks) else len(lines)
            body = section(lines, i + 1, end)
            if match["dir"] == "upgrade":
                upgrades.append(MigrationStep(version=match["dst"].strip(), path=path, up_sql=body, up_line=i + 2,
                                              description=f"{match['src'].strip() or 'base'} -> {match['dst'].strip()}"))
            else:
                downgrades[match["src"].strip()] = (path, body, i + 2)
    for step in upgrades:
        if step.version in downgrades:
            step.down_path, step.down_sql, step.down_line = downgrades[step.version]
    return upgrades


# Django sqlmigrate ----------------------------------------------------------------------------

def read_django(files: Files) -> list[MigrationStep]:
    steps = []
    for path, text in sorted(files):
        parts = path.replace("\\", "/").split("/")
        stem = parts[-1][: -len(".sql")]
        app = parts[-2] if len(parts) > 1 and parts[-2] not in ("", ".", "migrations", "sql") else ""
        version = f"{app}.{stem}" if app else stem
        steps.append(_single(without_transaction_wrapper(text), path, version))
    return steps


# Plain ordered SQL ----------------------------------------------------------------------------

def read_plain(files: Files) -> list[MigrationStep]:
    if len(files) == 1:
        path, text = files[0]
        match = LEADING_NUMBER.match(basename(path))
        return [_single(text, path, match["version"].rstrip("._") if match else "")]
    steps = [_single(text, path, _leading_version(path)) for path, text in files]
    versions = [s.version for s in steps]
    duplicates = sorted({v for v in versions if versions.count(v) > 1})
    if duplicates:
        raise FormatError(f"plain SQL files share a version: {', '.join(duplicates)}")
    return sorted(steps, key=lambda s: version_key(s.version))
