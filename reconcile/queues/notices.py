"""A payer's notice of intent to recoup, entered by hand before any money moves.

``reconcile recoupments add`` records it as a ``noticed`` recoupment with its response
deadline and the state look-back verdict; when an 835 later offsets money with the
same reference (or for the same claim), the run moves this recoupment to ``offset``
instead of creating another one.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, insert, select

from reconcile.categories import AuditEntity, RecoupmentReason, RecoupmentStatus
from reconcile.db.tables import ExpectedClaim, Recoupment, X12ClaimPayment, X12Payment
from reconcile.errors import ReconcileError
from reconcile.queues.audit import Event, append_events
from reconcile.queues.rules import lookback_verdict, recoupment_deadline
from reconcile.settings import PayerProfile, Settings


class NoticeRefused(ReconcileError):
    """A notice that cannot be recorded as given."""


def notice_fingerprint(
    *, payer_id: str, claim_id: str | None, reference: str | None, notice_on: dt.date
) -> str:
    """Business identity of a notice: payer, claim and reference (or its date)."""
    return (
        f"recoupment:notice:{payer_id}:{claim_id or '-'}:"
        f"{reference or notice_on.isoformat()}"
    )


def add_notice(
    conn: Connection,
    *,
    settings: Settings,
    payer_id: str,
    claim_id: str | None,
    amount_cents: int,
    notice_on: dt.date,
    reference: str | None,
    actor: str,
    at: dt.datetime,
) -> int:
    """Record a notice of intent; return the new recoupment's id.

    Raises:
        NoticeRefused: the amount is not positive, the claim is unknown, the payer
            is neither configured nor used by any claim, or the same notice exists.
    """
    if amount_cents <= 0:
        raise NoticeRefused("the amount of a notice must be more than 0.00")
    known_payer = (
        settings.payer(payer_id) is not None
        or conn.execute(
            select(ExpectedClaim.id).where(ExpectedClaim.payer_id == payer_id).limit(1)
        ).first()
    )
    if not known_payer:
        raise NoticeRefused(
            f"payer {payer_id!r} is neither configured nor used by any claim"
        )
    original_on: dt.date | None = None
    original_id: int | None = None
    if claim_id is not None:
        if (
            conn.execute(
                select(ExpectedClaim.id).where(ExpectedClaim.claim_id == claim_id)
            ).first()
            is None
        ):
            raise NoticeRefused(f"there is no claim {claim_id!r}")
        original = conn.execute(
            select(X12ClaimPayment.id, X12Payment.paid_on)
            .join(X12Payment, X12Payment.id == X12ClaimPayment.payment_id)
            .where(
                X12ClaimPayment.claim_id == claim_id,
                X12ClaimPayment.paid_cents > 0,
                X12Payment.paid_on <= notice_on,
            )
            .order_by(X12Payment.paid_on.desc())
            .limit(1)
        ).first()
        if original is not None:
            original_id, original_on = original
    fingerprint = notice_fingerprint(
        payer_id=payer_id, claim_id=claim_id, reference=reference, notice_on=notice_on
    )
    if conn.execute(
        select(Recoupment.id).where(Recoupment.fingerprint == fingerprint)
    ).first():
        raise NoticeRefused("this notice is already recorded")
    profile = settings.payer(payer_id) or PayerProfile(id=payer_id)
    deadline = recoupment_deadline(
        settings=settings,
        kind=profile.kind,
        response_days=profile.response_days or settings.recoupments.response_days,
        start=notice_on,
    )
    state = profile.state or settings.practice.state
    verdict = lookback_verdict(
        state=state,
        rule=settings.recoupments.state_rules.get(state),
        kind=profile.kind,
        exempt=profile.exempt_from_state_rules,
        original_paid_on=original_on,
        notice_on=notice_on,
        offset_on=None,
    )
    details = (
        {"offset_from": deadline.offset_from.isoformat()}
        if deadline.offset_from
        else {}
    )
    new_id = int(
        conn.execute(
            insert(Recoupment)
            .values(
                fingerprint=fingerprint,
                reason=RecoupmentReason.NOTICE,
                status=RecoupmentStatus.NOTICED,
                payer_id=payer_id,
                claim_id=claim_id,
                original_claim_payment_id=original_id,
                original_paid_on=original_on,
                amount_cents=amount_cents,
                notice_on=notice_on,
                reference=reference,
                identified_on=notice_on,
                response_due_on=deadline.respond_by,
                lookback_status=verdict.status,
                lookback_note=verdict.note,
                original_identified=claim_id is not None,
                details=details,
                created_by=actor,
                seen_as_of=notice_on,
                created_at=at,
                updated_at=at,
            )
            .returning(Recoupment.id)
        ).scalar_one()
    )
    append_events(
        conn,
        [
            Event(
                entity=AuditEntity.RECOUPMENT, entity_id=new_id, action="notice",
                actor=actor, occurred_at=at, to_status=str(RecoupmentStatus.NOTICED),
                reason=f"notice of intent dated {notice_on}",
                details={"amount_cents": amount_cents, "reference": reference},
            )
        ],
    )  # fmt: skip
    return new_id


__all__ = ["NoticeRefused", "add_notice", "notice_fingerprint"]
