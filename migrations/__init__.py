"""Alembic migrations of the ``reconcile`` schema (shipped in the wheel, run by
``reconcile db upgrade`` and automatically on an empty database)."""

RECONCILE_MIGRATIONS = True
