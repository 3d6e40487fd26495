"""The problems and warnings found while reading one 835 file.

Every problem is kept with its place (segment number from 1 in the file, segment id)
up to :data:`~reconcile.ingest.MAX_PROBLEMS`; then reading stops, since the file is
rejected either way. Balancing faults are kept apart, because ``--allow-unbalanced``
loads a file whose only faults they are.
"""

from __future__ import annotations

from typing import Any

from reconcile.ingest.outcome import MAX_PROBLEMS, Problem


class TooManyProblems(Exception):
    """Raised inside the reader to stop once the problem list is full."""


class ProblemLog:
    """Collects what rejects a file, what only warns, and balancing faults."""

    def __init__(self, *, allow_unbalanced: bool, limit: int = MAX_PROBLEMS) -> None:
        self.allow_unbalanced = allow_unbalanced
        self.limit = limit
        #: Faults that reject the file.
        self.problems: list[Problem] = []
        #: Missing or invalid metadata with a safe fallback.
        self.warnings: list[Problem] = []
        #: Balancing faults let through by ``allow_unbalanced``.
        self.unbalanced: list[Problem] = []
        # (element, separator used) -> [first segment, segment id, count]
        self._composites: dict[tuple[str, str], list[Any]] = {}
        self._declared = ""

    def reject(self, segment: int | None, segment_id: str | None, reason: str) -> None:
        """Record a fault that rejects the file.

        Raises:
            TooManyProblems: the list is full.
        """
        self.problems.append(Problem(reason, segment=segment, segment_id=segment_id))
        if len(self.problems) >= self.limit:
            raise TooManyProblems

    def warn(self, segment: int | None, segment_id: str | None, reason: str) -> None:
        """Record a warning (kept with the file; the file still loads)."""
        if len(self.warnings) < self.limit:
            self.warnings.append(
                Problem(reason, segment=segment, segment_id=segment_id)
            )

    def unbalance(self, segment: int, segment_id: str, reason: str) -> Problem:
        """Record a balancing fault: rejecting, unless unbalanced files are allowed.

        Raises:
            TooManyProblems: the list of rejecting faults is full.
        """
        problem = Problem(reason, segment=segment, segment_id=segment_id)
        if self.allow_unbalanced:
            self.unbalanced.append(problem)
        else:
            self.problems.append(problem)
            if len(self.problems) >= self.limit:
                raise TooManyProblems
        return problem

    def composite(
        self, segment: int, segment_id: str, element: str, used: str, declared: str
    ) -> None:
        """Note a composite written with ``used`` although ISA16 declares ``declared``.

        Such composites are split as written; one warning per element and separator
        is given at the end (:meth:`finish`), with how often it happened.
        """
        seen = self._composites.get((element, used))
        if seen is None:
            self._composites[(element, used)] = [segment, segment_id, 1]
            self._declared = declared
        else:
            seen[2] += 1

    def finish(self) -> None:
        """Turn what was noted along the way into warnings."""
        for (element, used), (segment, segment_id, count) in self._composites.items():
            more = f" ({count} segments)" if count > 1 else ""
            self.warn(
                segment,
                segment_id,
                f"{element} is written with {used!r} between its components although "
                f"ISA16 declares {self._declared!r}; kept as written{more}",
            )
        self._composites.clear()
