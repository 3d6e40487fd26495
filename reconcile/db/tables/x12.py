"""The 835 remittance tables: payment (ST…SE), claim (CLP), line (SVC), CAS and PLB.

Rows are immutable once loaded. Amounts keep the 835's sign: a reversal's CLP04 is
negative; a positive CAS or PLB amount reduces the payment.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reconcile.db.base import Base, CentsType, IdType, JsonType

_CODE = String(8)
_ID = String(80)
_NAME = String(120)


class X12Payment(Base):
    """One payment: a transaction set ST…SE, with exactly one BPR and one TRN.

    The duplicate key is (TRN03, TRN02, BPR02, payment date): a payment already loaded
    from another file is skipped, and the database enforces it.
    """

    __tablename__ = "x12_payment"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    source_file_id: Mapped[int] = mapped_column(ForeignKey("source_file.id"))
    #: Position of this ST…SE in its file, from 1.
    file_seq: Mapped[int]
    interchange_control: Mapped[str] = mapped_column(String(9))  # ISA13
    interchange_sender: Mapped[str] = mapped_column(String(15))  # ISA06
    interchange_receiver: Mapped[str] = mapped_column(String(15))  # ISA08
    group_control: Mapped[str] = mapped_column(String(9))  # GS06
    transaction_control: Mapped[str] = mapped_column(String(9))  # ST02
    version: Mapped[str] = mapped_column(String(12))  # GS08
    # BPR
    handling_code: Mapped[str] = mapped_column(_CODE)  # BPR01: C, D, H, I, P, U, X
    amount_cents: Mapped[int] = mapped_column(CentsType)  # BPR02, never negative
    credit_debit: Mapped[str] = mapped_column(_CODE)  # BPR03: C / D
    method: Mapped[str] = mapped_column(_CODE)  # BPR04: ACH, CHK, NON, BOP, FWT
    format_code: Mapped[str | None] = mapped_column(_CODE)  # BPR05: CCP, CTX
    sender_dfi_qualifier: Mapped[str | None] = mapped_column(_CODE)  # BPR06
    sender_dfi: Mapped[str | None] = mapped_column(String(12))  # BPR07
    sender_account_qualifier: Mapped[str | None] = mapped_column(_CODE)  # BPR08
    sender_account: Mapped[str | None] = mapped_column(String(35))  # BPR09
    originating_company_id: Mapped[str | None] = mapped_column(String(10))  # BPR10
    originating_company_code: Mapped[str | None] = mapped_column(String(9))  # BPR11
    receiver_dfi_qualifier: Mapped[str | None] = mapped_column(_CODE)  # BPR12
    receiver_dfi: Mapped[str | None] = mapped_column(String(12))  # BPR13
    receiver_account_qualifier: Mapped[str | None] = mapped_column(_CODE)  # BPR14
    receiver_account: Mapped[str | None] = mapped_column(String(35))  # BPR15
    effective_on: Mapped[dt.date | None]  # BPR16 as sent, when it is a valid date
    #: The payment date every rule uses: BPR16, or DTM*405 when BPR16 is unusable.
    paid_on: Mapped[dt.date]
    paid_on_source: Mapped[str] = mapped_column(_CODE)  # "BPR16" or "DTM405"
    # TRN
    trace_type: Mapped[str] = mapped_column(_CODE)  # TRN01
    trace_number: Mapped[str] = mapped_column(String(50))  # TRN02: check or EFT trace
    originator_id: Mapped[str] = mapped_column(String(10))  # TRN03: 1 + payer EIN
    originator_supplemental: Mapped[str | None] = mapped_column(String(50))  # TRN04
    production_on: Mapped[dt.date | None]  # DTM*405
    # 1000A payer
    payer_name: Mapped[str | None] = mapped_column(_NAME)  # N1*PR N102
    payer_id_qualifier: Mapped[str | None] = mapped_column(_CODE)  # N1*PR N103
    payer_identifier: Mapped[str | None] = mapped_column(_ID)  # N1*PR N104
    payer_ref_2u: Mapped[str | None] = mapped_column(_ID)  # REF*2U
    payer_state: Mapped[str | None] = mapped_column(String(2))  # N4*02
    # 1000B payee
    payee_name: Mapped[str | None] = mapped_column(_NAME)  # N1*PE N102
    payee_id_qualifier: Mapped[str | None] = mapped_column(_CODE)  # N1*PE N103
    payee_identifier: Mapped[str | None] = mapped_column(_ID)  # N1*PE N104
    payee_npi: Mapped[str | None] = mapped_column(String(10))
    payee_tin: Mapped[str | None] = mapped_column(String(20))
    #: Header REF and other header data not modelled as columns.
    extra: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    claim_count: Mapped[int]
    #: Loaded with --allow-unbalanced although a balancing equation fails.
    unbalanced: Mapped[bool] = mapped_column(default=False)
    balance_problems: Mapped[list[dict[str, Any]]] = mapped_column(
        JsonType, default=list
    )

    __table_args__ = (
        UniqueConstraint(
            "originator_id", "trace_number", "amount_cents", "paid_on", name="dedup"
        ),
        Index("ix_x12_payment_trace_number", "trace_number"),
        Index("ix_x12_payment_paid_on", "paid_on"),
        Index("ix_x12_payment_source_file_id", "source_file_id"),
    )


class X12ClaimPayment(Base):
    """One claim's adjudication (CLP loop 2100), its parties, references and dates."""

    __tablename__ = "x12_claim_payment"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("x12_payment.id"))
    seq: Mapped[int]  # position in the payment, from 1
    lx_number: Mapped[str | None] = mapped_column(String(6))  # LX01
    claim_id: Mapped[str] = mapped_column(String(38))  # CLP01 patient control number
    status_code: Mapped[str] = mapped_column(_CODE)  # CLP02
    charge_cents: Mapped[int] = mapped_column(CentsType)  # CLP03
    paid_cents: Mapped[int] = mapped_column(CentsType)  # CLP04
    patient_resp_cents: Mapped[int | None] = mapped_column(CentsType)  # CLP05
    filing_indicator: Mapped[str | None] = mapped_column(_CODE)  # CLP06
    payer_control: Mapped[str | None] = mapped_column(String(50))  # CLP07 ICN/DCN
    facility_code: Mapped[str | None] = mapped_column(_CODE)  # CLP08
    frequency_code: Mapped[str | None] = mapped_column(_CODE)  # CLP09
    drg_code: Mapped[str | None] = mapped_column(_CODE)  # CLP11
    drg_weight: Mapped[str | None] = mapped_column(String(20))  # CLP12
    discharge_fraction: Mapped[str | None] = mapped_column(String(20))  # CLP13
    # NM1 parties (patient data: never logged, shown only when config allows)
    patient_last_name: Mapped[str | None] = mapped_column(_NAME)  # NM1*QC
    patient_first_name: Mapped[str | None] = mapped_column(String(35))
    patient_identifier: Mapped[str | None] = mapped_column(_ID)
    insured_identifier: Mapped[str | None] = mapped_column(_ID)  # NM1*IL
    corrected_insured_identifier: Mapped[str | None] = mapped_column(_ID)  # NM1*74
    rendering_npi: Mapped[str | None] = mapped_column(_ID)  # NM1*82
    crossover_name: Mapped[str | None] = mapped_column(_NAME)  # NM1*TT
    crossover_identifier: Mapped[str | None] = mapped_column(_ID)
    corrected_payer_name: Mapped[str | None] = mapped_column(_NAME)  # NM1*PR
    corrected_payer_identifier: Mapped[str | None] = mapped_column(_ID)
    # REF
    original_ref: Mapped[str | None] = mapped_column(String(50))  # REF*F8
    member_id: Mapped[str | None] = mapped_column(_ID)  # REF*1W
    prior_auth: Mapped[str | None] = mapped_column(String(50))  # REF*G1
    # DTM
    statement_from_on: Mapped[dt.date | None]  # DTM*232
    statement_to_on: Mapped[dt.date | None]  # DTM*233
    received_on: Mapped[dt.date | None]  # DTM*050
    coverage_expires_on: Mapped[dt.date | None]  # DTM*036
    # AMT
    coverage_cents: Mapped[int | None] = mapped_column(CentsType)  # AMT*AU
    interest_cents: Mapped[int | None] = mapped_column(CentsType)  # AMT*I
    discount_cents: Mapped[int | None] = mapped_column(CentsType)  # AMT*D8
    #: MOA/MIA remark codes, in order, separated by spaces (up to ten codes of up
    #: to 50 characters each in 5010, hence unbounded text).
    remark_codes: Mapped[str | None] = mapped_column(Text)
    #: Everything else kept: all REF, AMT and QTY values, MIA/MOA elements.
    extra: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)

    __table_args__ = (
        Index("ix_x12_claim_payment_claim_id", "claim_id"),
        Index("ix_x12_claim_payment_payer_control", "payer_control"),
        Index("ix_x12_claim_payment_original_ref", "original_ref"),
        Index("ix_x12_claim_payment_payment_id", "payment_id"),
    )


class X12ServiceLine(Base):
    """One service line (SVC loop 2110)."""

    __tablename__ = "x12_service_line"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    claim_payment_id: Mapped[int] = mapped_column(ForeignKey("x12_claim_payment.id"))
    seq: Mapped[int]
    procedure_qualifier: Mapped[str] = mapped_column(_CODE)  # SVC01-1: HC, NU, …
    procedure_code: Mapped[str] = mapped_column(String(48))  # SVC01-2
    modifiers: Mapped[str | None] = mapped_column(String(16))  # SVC01-3..6, ":"-joined
    charge_cents: Mapped[int] = mapped_column(CentsType)  # SVC02
    paid_cents: Mapped[int] = mapped_column(CentsType)  # SVC03
    revenue_code: Mapped[str | None] = mapped_column(_CODE)  # SVC04
    units: Mapped[str | None] = mapped_column(String(15))  # SVC05 (a quantity)
    original_procedure: Mapped[str | None] = mapped_column(String(80))  # SVC06
    original_units: Mapped[str | None] = mapped_column(String(15))  # SVC07
    service_from_on: Mapped[dt.date | None]  # DTM*472 or DTM*150
    service_to_on: Mapped[dt.date | None]  # DTM*472 or DTM*151
    line_control: Mapped[str | None] = mapped_column(String(50))  # REF*6R
    allowed_cents: Mapped[int | None] = mapped_column(CentsType)  # AMT*B6
    #: LQ*HE remark codes, space-separated (LQ may repeat 99 times: unbounded text).
    remark_codes: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)

    __table_args__ = (
        Index("ix_x12_service_line_claim_payment_id", "claim_payment_id"),
        Index("ix_x12_service_line_line_control", "line_control"),
    )


class X12Adjustment(Base):
    """One CAS reason/amount/quantity triplet, at claim level or line level."""

    __tablename__ = "x12_adjustment"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    claim_payment_id: Mapped[int] = mapped_column(ForeignKey("x12_claim_payment.id"))
    #: The service line for a line-level CAS; null for a claim-level CAS.
    service_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("x12_service_line.id")
    )
    seq: Mapped[int]
    group_code: Mapped[str] = mapped_column(String(2))  # CAS01: CO, OA, PI, PR
    reason_code: Mapped[str] = mapped_column(String(5))  # CARC
    amount_cents: Mapped[int] = mapped_column(CentsType)  # positive reduces payment
    quantity: Mapped[str | None] = mapped_column(String(15))

    __table_args__ = (
        Index("ix_x12_adjustment_claim_payment_id", "claim_payment_id"),
        Index("ix_x12_adjustment_service_line_id", "service_line_id"),
    )


class X12ProviderAdjustment(Base):
    """One PLB reason:reference/amount pair; a PLB segment holds up to six."""

    __tablename__ = "x12_provider_adjustment"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("x12_payment.id"))
    seq: Mapped[int]  # order within the payment, from 1
    provider_identifier: Mapped[str] = mapped_column(_ID)  # PLB01
    fiscal_period_on: Mapped[dt.date | None]  # PLB02
    reason_code: Mapped[str] = mapped_column(String(2))  # PLB03-1: WO, FB, 72, L6, …
    reference: Mapped[str | None] = mapped_column(String(50))  # PLB03-2
    amount_cents: Mapped[int] = mapped_column(CentsType)  # positive reduces payment

    __table_args__ = (
        Index("ix_x12_provider_adjustment_payment_id", "payment_id"),
        Index("ix_x12_provider_adjustment_reference", "reference"),
    )
