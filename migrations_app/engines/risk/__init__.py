"""Risk Assessment Engine (runbook names): a 0-100 score per operation and per plan from measured
catalog facts, the floors findings set under it, and the facts reader the rules share."""

from migrations_app.engines.risk.assessment import RiskAssessmentEngine
from migrations_app.engines.risk.catalog import (CatalogFacts, CatalogFactsError, Thresholds,
                                                 fetch_catalog_facts, fetch_definitions, format_seconds, open_catalog)
from migrations_app.engines.risk.floors import apply_floors, risk_effect
from migrations_app.engines.risk.model import (CATEGORIES, OperationContext, PlanRiskAssessment, RiskAssessment,
                                               RiskBand, RiskFactor, combine, risk_level_for_score)

__all__ = ["CATEGORIES", "CatalogFacts", "CatalogFactsError", "OperationContext", "PlanRiskAssessment",
           "RiskAssessment", "RiskAssessmentEngine", "RiskBand", "RiskFactor", "Thresholds", "apply_floors",
           "combine", "fetch_catalog_facts", "fetch_definitions", "format_seconds", "open_catalog", "risk_effect",
           "risk_level_for_score"]
