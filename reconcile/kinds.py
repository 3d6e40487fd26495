"""What each exception kind means to the accountant who works it.

Human titles, the one-line way to work each kind, and the precedence that keeps one
condition to one exception (DESIGN.md): per claim ``denied`` > ``reversal_uncorrected``
> ``duplicate_payment`` > ``cob_overlap`` > ``overpaid`` / ``underpaid``.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconcile.categories import ExceptionKind as K


@dataclass(frozen=True)
class KindInfo:
    """How a kind is shown and worked."""

    title: str
    how_to_work: str


KINDS: dict[K, KindInfo] = {
    K.UNDERPAID: KindInfo(
        "Underpaid claims",
        "Compare the payment with the contract; appeal the shortfall or write it off.",
    ),
    K.OVERPAID: KindInfo(
        "Overpaid claims",
        "Confirm the overpayment; the refund is queued with its legal due date.",
    ),
    K.DUPLICATE_PAYMENT: KindInfo(
        "Duplicate payments",
        "The payer paid the same lines twice: refund one payment (see Refunds).",
    ),
    K.COB_OVERLAP: KindInfo(
        "Two primary payers",
        "Two payers paid as primary: confirm coverage order, refund the wrong one.",
    ),
    K.PATIENT_OVERPAID: KindInfo(
        "Patient overpayments",
        "The patient paid more than they owe: refund them by the state deadline.",
    ),
    K.DENIED: KindInfo(
        "Denials",
        "Read the denial codes; correct and resubmit, or appeal.",
    ),
    K.REVERSAL_UNCORRECTED: KindInfo(
        "Reversals without correction",
        "Follow the suggested action: resubmit, or bill the other payer or patient.",
    ),
    K.RECOUPMENT: KindInfo(
        "Recoupments",
        "A payer took money back: check the claim and the deadline; dispute or accept.",
    ),
    K.REFUND_RECOUPED: KindInfo(
        "Refunds also recouped",
        "The payer recouped money already refunded: ask the payer to return one.",
    ),
    K.UNMATCHED_REMITTANCE: KindInfo(
        "Payments for unknown claims",
        "Find the claim (claim id, or a payer profile) and post or return the money.",
    ),
    K.UNPAID_CLAIM: KindInfo(
        "Unpaid claims",
        "Check the claim's status with the payer; resubmit if it is not on file.",
    ),
    K.ERA_WITHOUT_DEPOSIT: KindInfo(
        "Remittances without deposit",
        "Trace the EFT or check with the bank and the payer.",
    ),
    K.DEPOSIT_WITHOUT_ERA: KindInfo(
        "Deposits without remittance",
        "Request the 835 from the payer or clearinghouse.",
    ),
    K.DEPOSIT_AMOUNT_MISMATCH: KindInfo(
        "Deposit amount differs",
        "Reconcile the deposit with the 835 total (fees, levies, split payments).",
    ),
    K.NOT_POSTED: KindInfo(
        "Payments not posted",
        "Post the payment in the practice-management system.",
    ),
    K.POSTING_MISMATCH: KindInfo(
        "Postings for the wrong amount",
        "Correct the posting to the amount actually paid.",
    ),
    K.POSTING_WITHOUT_PAYMENT: KindInfo(
        "Postings without payment",
        "Find the payment behind the posting, or reverse the posting.",
    ),
    K.UNBALANCED_REMITTANCE: KindInfo(
        "Unbalanced remittances",
        "The payer's 835 does not add up: ask for a corrected one; post by hand.",
    ),
}

#: Claim-level kinds, most important first; a claim shows only its first kind.
CLAIM_PRECEDENCE: tuple[K, ...] = (
    K.DENIED,
    K.REVERSAL_UNCORRECTED,
    K.DUPLICATE_PAYMENT,
    K.COB_OVERLAP,
    K.OVERPAID,
    K.UNDERPAID,
    K.UNPAID_CLAIM,
)
