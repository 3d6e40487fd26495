"""What an import reports per file: the ``--json`` objects of DESIGN.md.

Problems with a file are data, not crashes: every problem found (up to
:data:`MAX_PROBLEMS`) is listed with its place, and the file is rejected whole.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from reconcile.errors import ReconcileError

#: Stop listing problems after this many; the file is rejected either way.
MAX_PROBLEMS = 100


class ImportStatus(enum.StrEnum):
    """The outcome of one file."""

    LOADED = "loaded"
    ALREADY_IMPORTED = "already_imported"
    REJECTED = "rejected"
    VALID = "valid"  # --check: it would load


def _escape_controls(text: str) -> str:
    return "".join(
        f"\\x{ord(ch):02x}" if (ord(ch) < 32 and ch != "\t") or ch == "\x7f" else ch
        for ch in text
    )


@dataclass(frozen=True)
class Problem:
    """One thing wrong with (or worth a warning about) a file, and where.

    Place is a segment (835: number from 1 in the file, and its id) or a line and
    column (tabular files; line 1 is the header).
    """

    reason: str
    segment: int | None = None
    segment_id: str | None = None
    line: int | None = None
    column: str | None = None

    def __post_init__(self) -> None:
        # A reason may quote the file; control characters (a NUL, a terminal escape)
        # are shown escaped, so that neither a terminal nor a database sees them.
        if any((ord(ch) < 32 and ch != "\t") or ch == "\x7f" for ch in self.reason):
            object.__setattr__(self, "reason", _escape_controls(self.reason))

    @property
    def place(self) -> str:
        """The place as people read it: ``segment 12 (CLP)`` or ``line 5: amount``."""
        if self.segment is not None:
            return f"segment {self.segment}" + (
                f" ({self.segment_id})" if self.segment_id else ""
            )
        if self.line is not None:
            return f"line {self.line}" + (f": {self.column}" if self.column else "")
        return self.column or "file"

    def located(self, file: str, *, label: str = "") -> str:
        """The problem as one line naming the file, the way compilers do.

        ``file:line: column: reason`` for tabular files (``file:line: reason`` for
        a whole row), ``file: segment 12 (CLP): reason`` for an 835, and ``file:
        reason`` for the file as a whole. ``label`` (``"warning"``) goes before the
        reason.
        """
        reason = f"{label}: {self.reason}" if label else self.reason
        if self.line is not None:
            column = f" {self.column}:" if self.column else ""
            return f"{file}:{self.line}:{column} {reason}"
        if self.segment is not None or self.column:
            return f"{file}: {self.place}: {reason}"
        return f"{file}: {reason}"

    def to_json(self) -> dict[str, Any]:
        """The problem as a JSON object (place fields that apply, and the reason)."""
        data: dict[str, Any] = {"place": self.place}
        for key in ("segment", "segment_id", "line", "column"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        data["reason"] = self.reason
        return data

    def __str__(self) -> str:
        return f"{self.place}: {self.reason}"


class FileRejected(ReconcileError):
    """A file that must not load, with every problem found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("a rejected file needs at least one problem")
        self.problems = problems
        super().__init__(str(problems[0]))


@dataclass
class LoadResult:
    """What loading (or checking) one file produced."""

    counts: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    warnings: list[Problem] = field(default_factory=list)
    allowed_unbalanced: bool = False


@dataclass
class FileOutcome:
    """One file's outcome, as printed and as ``--json`` returns it."""

    file: str
    status: ImportStatus
    reason: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    warnings: list[Problem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The DESIGN.md per-file object."""
        return {
            "file": self.file,
            "status": self.status.value,
            "reason": [p.to_json() for p in self.reason],
            "counts": dict(self.counts),
            "skipped": self.skipped,
            "warnings": [p.to_json() for p in self.warnings],
        }


def stopped(limit: int = MAX_PROBLEMS) -> Problem:
    """The note after a full list of problems: reading stopped there."""
    return Problem(
        f"stopped after {limit} problems; fix these and import the file again to "
        "see the rest"
    )


def capped_warnings(warnings: list[Problem]) -> list[Problem]:
    """The first :data:`MAX_PROBLEMS` warnings, and a count of the others."""
    if len(warnings) <= MAX_PROBLEMS:
        return warnings
    more = len(warnings) - MAX_PROBLEMS
    return [
        *warnings[:MAX_PROBLEMS],
        Problem(f"{more} more warnings like these (only {MAX_PROBLEMS} are listed)"),
    ]
