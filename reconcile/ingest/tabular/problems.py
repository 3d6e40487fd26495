"""Collecting a file's problems, up to a cap, so a bad file is reported in one go."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconcile.ingest.outcome import MAX_PROBLEMS, FileRejected, Problem, stopped


@dataclass
class ProblemLog:
    """The problems found in one file so far; full after ``limit`` of them."""

    limit: int = MAX_PROBLEMS
    problems: list[Problem] = field(default_factory=list)
    #: Problems not listed because the log was full (only counted).
    dropped: int = 0

    @property
    def full(self) -> bool:
        """Whether reading on would only find problems nobody will see."""
        return len(self.problems) >= self.limit

    def add(self, problem: Problem) -> None:
        """Record a problem (or only count it once the log is full)."""
        if self.full:
            self.dropped += 1
        else:
            self.problems.append(problem)

    def room(self) -> int:
        """How many more problems will be listed."""
        return max(self.limit - len(self.problems), 0)

    def raise_if_any(self) -> None:
        """Reject the file if anything was found, problems sorted by line.

        Raises:
            FileRejected: with every listed problem, plus a note when the list
                reached the cap (reading stops there, so there may be more).
        """
        if not self.problems:
            return
        ordered = sorted(
            self.problems,
            key=lambda p: p.line if p.line is not None else 0,
        )
        if self.full or self.dropped:
            ordered.append(stopped(self.limit))
        raise FileRejected(ordered)
