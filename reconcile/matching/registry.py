"""The matching rules, in the order they run.

Identity before amounts; exact before tolerant; a rule only sees what earlier rules
left unmatched. Rule ids are stored in ``recon_match.rule_id``: never rename one, add a
new rule instead.
"""

from __future__ import annotations

from reconcile.matching.rule import Rule
from reconcile.matching.rules import (
    claim_remit_clp01,
    claim_remit_icn,
    era_deposit_amount,
    era_deposit_trace,
    patient_posting_amount,
    patient_posting_exact,
    patient_posting_reference,
    remit_posting_exact,
    remit_posting_reference,
    remit_posting_unreferenced,
)

RULES: tuple[Rule, ...] = tuple(
    Rule.from_module(module)
    for module in (
        claim_remit_clp01,
        claim_remit_icn,
        era_deposit_trace,
        era_deposit_amount,
        remit_posting_exact,
        remit_posting_reference,
        remit_posting_unreferenced,
        patient_posting_exact,
        patient_posting_reference,
        patient_posting_amount,
    )
)

#: Rules applied again until they find nothing new (they follow chains).
REPEATED = frozenset({claim_remit_icn.RULE_ID})
#: Safety limit for repeated rules (a correction chain longer than this is absurd).
MAX_REPEATS = 10
