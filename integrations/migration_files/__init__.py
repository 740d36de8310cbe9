"""Migration files as teams keep them, turned into ordered steps (forward SQL, rollback SQL, the file
and line each came from). Framework-free: the plans layer turns steps into operations.

    read_migration_files([("db/V1__init.sql", text), ...]) -> MigrationSet(format="flyway", steps=[...])
"""

from integrations.migration_files.model import FORMATS, FormatError, MigrationSet, MigrationStep
from integrations.migration_files.detect import read_migration_files

__all__ = ["FORMATS", "FormatError", "MigrationSet", "MigrationStep", "read_migration_files"]
