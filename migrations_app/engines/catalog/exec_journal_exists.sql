SELECT to_regclass('dataflow.migration_journal') IS NOT NULL AS present
