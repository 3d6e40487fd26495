"""What a matching rule is: an id, what it pairs, and a pure candidate query."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from sqlalchemy import Select

from reconcile.categories import Pairing
from reconcile.context import RunContext

#: A candidate statement: ``left_id, right_id, left_cents, right_cents``.
CandidateQuery = Select[*tuple[Any, ...]]
Candidates = Callable[..., CandidateQuery]


@dataclass(frozen=True)
class Rule:
    """A matching rule.

    ``candidates(ctx=…)`` returns a statement (never executed by the rule) yielding
    ``left_id, right_id, left_cents, right_cents`` for every pair the rule would tie,
    among rows visible as of the run's as-of date; :mod:`reconcile.matching.apply`
    removes rows already matched and ambiguous pairs, and writes the rest.
    """

    rule_id: str
    pairing: Pairing
    right_table: str
    one_to_one: bool
    candidates: Candidates
    description: str

    @classmethod
    def from_module(cls, module: ModuleType) -> Rule:
        """Build a rule from a ``rules/`` module; its docstring is the rule."""
        return cls(
            rule_id=module.RULE_ID,
            pairing=module.PAIRING,
            right_table=module.RIGHT_TABLE,
            one_to_one=module.ONE_TO_ONE,
            candidates=module.candidates,
            description=(module.__doc__ or "").strip().splitlines()[0],
        )

    def statement(self, ctx: RunContext) -> CandidateQuery:
        """The candidate statement for one run."""
        return self.candidates(ctx=ctx)
