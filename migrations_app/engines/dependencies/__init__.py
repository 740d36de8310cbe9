"""Dependency, Foreign Key and Table Rename Analyzers (runbook names): what depends on a table or
a column, read from the live catalog, with routine bodies parsed by the ``plpgsql_*`` readers."""

from migrations_app.engines.dependencies.analyzer import DependencyAnalyzer
from migrations_app.engines.dependencies.foreign_keys import FKOperationType, ForeignKeyAnalyzer
from migrations_app.engines.dependencies.model import (Dependency, DependencyAnalysisError, DependencyReport,
                                                       DependencyType, ImpactLevel, ObjectNotFoundError)
from migrations_app.engines.dependencies.renames import InvalidRenameError, RenameObjectType, TableRenameAnalyzer

__all__ = ["Dependency", "DependencyAnalysisError", "DependencyAnalyzer", "DependencyReport", "DependencyType",
           "FKOperationType", "ForeignKeyAnalyzer", "ImpactLevel", "InvalidRenameError", "ObjectNotFoundError",
           "RenameObjectType", "TableRenameAnalyzer"]
