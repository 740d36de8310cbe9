"""What the plans layer announces; the integrations layer registers the handlers, so no import
points upward."""

from django.dispatch import Signal

# Sent inside the transaction that records an execution's outcome, with ``execution_id`` and
# ``snapshot``: the whole database's schema (a ``SchemaDigest`` of every non-system schema) read
# by the executor right after its last statement, under the migration lock, or None when it
# could not be read. The drift ledger keeps it instead of reading the catalog again.
execution_finished = Signal()
