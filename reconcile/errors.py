"""The root of every error ``reconcile`` raises on purpose.

Each stage defines its own subclasses next to the code that raises them. The CLI turns
any :class:`ReconcileError` into one sentence on stderr and the exit code it carries:
1 when input was rejected or a decision refused, 2 for usage, configuration and
database-revision problems.
"""

from __future__ import annotations


class ReconcileError(Exception):
    """A problem a user can cause and fix; its message is one readable sentence."""

    exit_code: int = 1


class UsageError(ReconcileError):
    """A command was called with arguments it cannot work with."""

    exit_code = 2
