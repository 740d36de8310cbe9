"""Squawk's rules (2.70) and Atlas's PostgreSQL analyzers, each with the rule of ours that covers it.

The rule pages and docs/rules.md show this table; a test checks every entry names a rule we have
and that docs/rules.md lists every row."""

SQUAWK = [
    # (squawk id, our id, note)
    ("adding-field-with-default", "adding-field-with-default", ""),
    ("adding-foreign-key-constraint", "adding-foreign-key-constraint", ""),
    ("adding-not-nullable-field", "adding-not-nullable-field", ""),
    ("adding-primary-key-constraint", "adding-primary-key-constraint", ""),
    ("adding-required-field", "adding-required-field", ""),
    ("adding-serial-primary-key-field", "prefer-identity", "alias; ours fires on every serial column"),
    ("ban-alter-domain-with-add-constraint", "ban-alter-domain-with-add-constraint", ""),
    ("ban-char-field", "ban-char-field", ""),
    ("ban-concurrent-index-creation-in-transaction", "ban-concurrent-index-creation-in-transaction", ""),
    ("ban-create-domain-with-constraint", "ban-create-domain-with-constraint", ""),
    ("ban-drop-column", "ban-drop-column", ""),
    ("ban-drop-database", "ban-drop-database", "also refused by the statement policy"),
    ("ban-drop-not-null", "ban-drop-not-null", ""),
    ("ban-drop-table", "ban-drop-table", ""),
    ("ban-duplicate-column-assignments", "ban-duplicate-column-assignments", ""),
    ("ban-truncate-cascade", "ban-truncate-cascade", ""),
    ("ban-uncommitted-transaction", "ban-uncommitted-transaction", ""),
    ("changing-column-type", "changing-column-type", ""),
    ("constraint-missing-not-valid", "constraint-missing-not-valid", ""),
    ("disallowed-unique-constraint", "disallowed-unique-constraint", ""),
    ("identifier-too-long", "identifier-too-long", ""),
    ("prefer-bigint-over-int", "prefer-bigint-over-int", ""),
    ("prefer-bigint-over-smallint", "prefer-bigint-over-smallint", ""),
    ("prefer-identity", "prefer-identity", ""),
    ("prefer-repack", "prefer-repack", "opt-in, as in Squawk; full-table-rewrite (statement policy) always applies"),
    ("prefer-robust-stmts", "prefer-robust-stmts",
     "narrower on purpose: only statements that run outside a transaction; the executor runs transactional "
     "statements in one transaction, so a failed run leaves nothing to re-run past"),
    ("prefer-text-field", "prefer-text-field", ""),
    ("prefer-timestamp-tz", "prefer-timestamptz", "alias"),
    ("renaming-column", "renaming-column", ""),
    ("renaming-table", "renaming-table", ""),
    ("require-concurrent-index-creation", "require-concurrent-index-creation", ""),
    ("require-concurrent-index-deletion", "require-concurrent-index-deletion", ""),
    ("require-concurrent-partition-detach", "require-concurrent-partition-detach", ""),
    ("require-concurrent-reindex", "require-concurrent-reindex", ""),
    ("require-enum-value-ordering", "require-enum-value-ordering",
     "opt-in: the opposite stance of enum-value-ordering (on by default), which warns that BEFORE/AFTER "
     "reorders existing values; switch one on and the other off"),
    ("require-lock-timeout", "require-timeout-settings", "alias; ours checks both timeouts in one rule"),
    ("require-statement-timeout", "require-timeout-settings", "alias; ours checks both timeouts in one rule"),
    ("require-table-schema", "require-table-schema", "opt-in, as in Squawk"),
    ("require-timeout-settings", "require-timeout-settings", ""),
    ("transaction-nesting", "transaction-nesting", ""),
]

ATLAS = [
    # (atlas code, what it detects, our id, note)
    ("BC101", "table renamed", "renaming-table", ""),
    ("BC102", "column renamed", "renaming-column", ""),
    ("CD101", "foreign key dropped", "dropping-foreign-key", "from the live catalog, or a key added earlier in the plan"),
    ("DS102", "table dropped", "ban-drop-table", ""),
    ("DS103", "column dropped", "ban-drop-column", ""),
    ("MF101", "unique index on existing data (CONCURRENTLY too)", "adding-unique-index", ""),
    ("MF102", "index made unique", "index-made-unique", ""),
    ("MF103", "NOT NULL column added without default", "adding-required-field", ""),
    ("MF104", "column made NOT NULL", "adding-not-nullable-field", ""),
    ("PG101", "index created without CONCURRENTLY", "require-concurrent-index-creation", ""),
    ("PG102", "index dropped without CONCURRENTLY", "require-concurrent-index-deletion", ""),
    ("PG110", "column alignment padding", "column-alignment-padding", ""),
    ("PG301", "column type change rewrites the table", "changing-column-type", ""),
    ("PG302", "column added with a volatile default", "adding-field-with-default", ""),
    ("PG303", "SET NOT NULL scans the table", "adding-not-nullable-field", ""),
    ("PG304", "primary key sets NOT NULL implicitly (scan)", "primary-key-implicit-not-null", ""),
    ("NM101", "schema name pattern", "naming-schema", "opt-in; pattern option"),
    ("NM102", "table name pattern", "naming-table", "opt-in; pattern option"),
    ("NM103", "column name pattern", "naming-column", "opt-in; pattern option"),
    ("NM104", "index name pattern", "naming-index", "opt-in; pattern option"),
    ("NM105", "foreign key name pattern", "naming-foreign-key", "opt-in; pattern option"),
    ("NM106", "check constraint name pattern", "naming-check", "opt-in; pattern option"),
]


def names_elsewhere(rule_id: str) -> dict[str, list[str]]:
    return {"squawk": [s for s, ours, _ in SQUAWK if ours == rule_id],
            "atlas": [a for a, _, ours, _ in ATLAS if ours == rule_id]}
