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


#: The longest one-line description of an error, in log lines and messages.
MAX_ERROR_CHARS = 300


def describe_error(error: BaseException) -> str:
    """Name ``error`` in one line: its type and the first line of its message.

    A database error's message goes on, after its first line, with the SQL statement,
    its bound parameters and the server's DETAIL, which may quote patient data; those
    stay out of log lines and the one-sentence error (the run record keeps them).
    """
    lines = str(error).strip().splitlines()
    first = lines[0].strip() if lines else ""
    text = f"{type(error).__name__}: {first}" if first else type(error).__name__
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 1] + "…"
    return text
