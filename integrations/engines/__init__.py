"""Framework-free engines of the integration layer: webhook signing and posting (schema snapshots
and their diff live in migrations_app.engines.execution.schema_snapshot)."""
