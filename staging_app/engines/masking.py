"""Masking rules applied inside the SELECT of the COPY, so personal data never leaves
production unmasked.

A rule names ``table.column`` (or ``schema.table.column``) and a strategy:

- ``null``: the column is copied as NULL;
- ``fixed``: every row gets the same value (COPY text output, parsed by the staging side's
  COPY FROM into the column type, so no cast is needed here);
- ``hash``: ``md5(salt || value)``, stable within one environment so equal values stay equal
  (joins on the masked value still work, unique constraints still hold);
- ``fake_email``: ``user_<12 hex>@example.invalid`` derived from the same hash.

Masking a key column would break foreign keys between the sampled rows, so rules on
columns that take part in a foreign key (either side) are refused.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping

from psycopg import sql

STRATEGIES = ("null", "fixed", "hash", "fake_email")


class MaskingRuleError(ValueError):
    """A masking rule names an unknown column or cannot be applied. The message is safe to show."""


@dataclasses.dataclass(frozen=True)
class MaskingRule:
    table: str  # "table" or "schema.table"
    column: str
    strategy: str
    value: str | None = None

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise MaskingRuleError(f"unknown masking strategy {self.strategy!r} for {self.target}; "
                                   f"use one of {', '.join(STRATEGIES)}")
        if self.strategy == "fixed" and self.value is None:
            raise MaskingRuleError(f"masking rule for {self.target} is 'fixed' but gives no value")

    @property
    def target(self) -> str:
        return f"{self.table}.{self.column}"

    def to_dict(self) -> dict:
        data = {"strategy": self.strategy}
        if self.strategy == "fixed":
            data["value"] = self.value
        return data


def parse_masking_rules(rules: Mapping | Iterable[MaskingRule] | None) -> list[MaskingRule]:
    """Accept ``{"users.email": "fake_email", "users.name": {"strategy": "fixed", "value": "x"}}``
    or a list of ``MaskingRule``; return the rules, validated for shape."""
    if not rules:
        return []
    if not isinstance(rules, Mapping):
        return [rule if isinstance(rule, MaskingRule) else MaskingRule(**rule) for rule in rules]
    parsed = []
    for target, spec in rules.items():
        table, _, column = str(target).rpartition(".")
        if not table or not column:
            raise MaskingRuleError(f"masking rule target {target!r} must be 'table.column' or 'schema.table.column'")
        if isinstance(spec, str):
            parsed.append(MaskingRule(table, column, spec))
        elif isinstance(spec, Mapping):
            parsed.append(MaskingRule(table, column, spec.get("strategy", ""), spec.get("value")))
        else:
            raise MaskingRuleError(f"masking rule for {target!r} must be a strategy name or a mapping")
    return parsed


def rules_to_dict(rules: Iterable[MaskingRule]) -> dict:
    return {rule.target: rule.to_dict() for rule in rules}


class ColumnMasker:
    """Resolves rules against the source tables and builds each table's SELECT list."""

    def __init__(self, rules: Iterable[MaskingRule], tables, foreign_keys, salt: str):
        self.salt = salt
        self._by_table: dict[int, dict[str, MaskingRule]] = {}
        key_columns = set()
        for edge in foreign_keys:
            key_columns.update((edge.child_oid, column) for column in edge.child_columns)
            key_columns.update((edge.parent_oid, column) for column in edge.parent_columns)
        for rule in rules:
            table = _find_table(tables, rule.table)
            if rule.column not in table.columns:
                raise MaskingRuleError(f"masking rule {rule.target}: {table.qualified_name} has no copied column "
                                       f"{rule.column!r} (generated columns are recomputed, not copied)")
            if (table.oid, rule.column) in key_columns:
                raise MaskingRuleError(f"masking rule {rule.target}: the column is part of a foreign key, "
                                       "masking it would break the sampled rows' references")
            if rule.strategy == "null" and rule.column in table.not_null_columns:
                raise MaskingRuleError(f"masking rule {rule.target}: the column is NOT NULL, so 'null' cannot be "
                                       "loaded; use 'fixed' or 'hash'")
            if rule.strategy in ("hash", "fake_email") and rule.column not in table.text_columns:
                raise MaskingRuleError(f"masking rule {rule.target}: '{rule.strategy}' needs a text column")
            self._by_table.setdefault(table.oid, {})[rule.column] = rule

    def masked_columns(self, table) -> list[str]:
        return sorted(self._by_table.get(table.oid, {}))

    def select_list(self, table, alias: str = "t") -> sql.Composable:
        rules = self._by_table.get(table.oid, {})
        items = []
        for column in table.columns:
            ref = sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(column))
            rule = rules.get(column)
            items.append(ref if rule is None else self._expression(rule, ref))
        return sql.SQL(", ").join(items)

    def _expression(self, rule: MaskingRule, ref: sql.Composable) -> sql.Composable:
        # COPY takes no bound parameters, so values are quoted client-side with sql.Literal.
        if rule.strategy == "null":
            return sql.SQL("NULL")
        if rule.strategy == "fixed":
            return sql.Literal(str(rule.value))
        digest = sql.SQL("md5({} || {}::text)").format(sql.Literal(self.salt), ref)
        if rule.strategy == "hash":
            return sql.SQL("CASE WHEN {ref} IS NULL THEN NULL ELSE {digest} END").format(ref=ref, digest=digest)
        return sql.SQL("CASE WHEN {ref} IS NULL THEN NULL ELSE 'user_' || left({digest}, 12) || '@example.invalid' END"
                       ).format(ref=ref, digest=digest)


def _find_table(tables, name: str):
    matches = [t for t in tables if name in (t.name, t.qualified_name)]
    if len(matches) != 1:
        problem = "no table" if not matches else "several tables"
        raise MaskingRuleError(f"masking rule names {problem} called {name!r}; use schema.table")
    return matches[0]
