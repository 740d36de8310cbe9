"""A migration worker in its own process, for the kill -9 test.

Usage: python -m tests.engines_exec.worker '<TargetConnection fields as JSON>' '<operations JSON>'
Prints one JSON line per progress event (flushed), so the test knows when to kill it.
"""

import json
import sys

from migrations_app.engines.execution import AtomicMigrationExecutor, MigrationLockManager
from migrations_app.engines.statements import MigrationOperation
from targets.engines.connections import TargetConnection


def main() -> None:
    target = TargetConnection(**json.loads(sys.argv[1]))
    operations = [MigrationOperation(**op) for op in json.loads(sys.argv[2])]
    executor = AtomicMigrationExecutor(target, lock_manager=MigrationLockManager(target, owner="worker"))

    def progress(event: dict) -> None:
        print(json.dumps(event), flush=True)

    result = executor.execute_atomic_migration(operations, progress=progress)
    print(json.dumps({"event": "result", "success": result.success}), flush=True)


if __name__ == "__main__":
    main()
