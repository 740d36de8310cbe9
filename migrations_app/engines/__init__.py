"""Framework-free engines, one module per runbook component.

Engines take a ``TargetConnection`` (or a psycopg connection) and return dataclasses.
They import nothing from Django.
"""
