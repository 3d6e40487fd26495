"""What the 835 reader produces: compact, typed, ready to store.

Records are named tuples whose fields follow the columns of the 835 tables (without
the surrogate keys the loader assigns), so turning one into a row is a slice.
Amounts are integer cents with the 835's sign; dates are ISO ``YYYY-MM-DD`` strings
(already checked); ``extra`` is JSON text of the values kept without a column.

A payment's records arrive in this order: :class:`PaymentHeader` (once the header
loops are read), then each :class:`ClaimPayment` (with its service lines and
adjustments) and :class:`ProviderAdjustment` in file order, then :class:`PaymentEnd`.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Adjustment(NamedTuple):
    """One CAS reason/amount/quantity triplet."""

    group_code: str
    reason_code: str
    amount_cents: int
    quantity: str | None


class ServiceLine(NamedTuple):
    """One SVC loop (2110)."""

    procedure_qualifier: str
    procedure_code: str
    modifiers: str | None
    charge_cents: int
    paid_cents: int
    revenue_code: str | None
    units: str | None
    original_procedure: str | None
    original_units: str | None
    service_from_on: str | None
    service_to_on: str | None
    line_control: str | None
    allowed_cents: int | None
    remark_codes: str | None
    extra: str
    adjustments: tuple[Adjustment, ...]


#: How many leading fields of a :class:`ServiceLine` are columns.
SERVICE_LINE_COLUMNS = len(ServiceLine._fields) - 1


class ClaimPayment(NamedTuple):
    """One CLP loop (2100) with its claim-level adjustments and service lines."""

    lx_number: str | None
    claim_id: str
    status_code: str
    charge_cents: int
    paid_cents: int
    patient_resp_cents: int | None
    filing_indicator: str | None
    payer_control: str | None
    facility_code: str | None
    frequency_code: str | None
    drg_code: str | None
    drg_weight: str | None
    discharge_fraction: str | None
    patient_last_name: str | None
    patient_first_name: str | None
    patient_identifier: str | None
    insured_identifier: str | None
    corrected_insured_identifier: str | None
    rendering_npi: str | None
    crossover_name: str | None
    crossover_identifier: str | None
    corrected_payer_name: str | None
    corrected_payer_identifier: str | None
    original_ref: str | None
    member_id: str | None
    prior_auth: str | None
    statement_from_on: str | None
    statement_to_on: str | None
    received_on: str | None
    coverage_expires_on: str | None
    coverage_cents: int | None
    interest_cents: int | None
    discount_cents: int | None
    remark_codes: str | None
    extra: str
    adjustments: tuple[Adjustment, ...]
    lines: tuple[ServiceLine, ...]


#: How many leading fields of a :class:`ClaimPayment` are columns.
CLAIM_COLUMNS = len(ClaimPayment._fields) - 2


class PaymentHeader(NamedTuple):
    """One transaction set's envelope, BPR, TRN, dates, payer and payee."""

    file_seq: int
    interchange_control: str
    interchange_sender: str
    interchange_receiver: str
    group_control: str
    transaction_control: str
    version: str
    handling_code: str
    amount_cents: int
    credit_debit: str
    method: str
    format_code: str | None
    sender_dfi_qualifier: str | None
    sender_dfi: str | None
    sender_account_qualifier: str | None
    sender_account: str | None
    originating_company_id: str | None
    originating_company_code: str | None
    receiver_dfi_qualifier: str | None
    receiver_dfi: str | None
    receiver_account_qualifier: str | None
    receiver_account: str | None
    effective_on: str | None
    paid_on: str
    paid_on_source: str
    trace_type: str
    trace_number: str
    originator_id: str
    originator_supplemental: str | None
    production_on: str | None
    payer_name: str | None
    payer_id_qualifier: str | None
    payer_identifier: str | None
    payer_ref_2u: str | None
    payer_state: str | None
    payee_name: str | None
    payee_id_qualifier: str | None
    payee_identifier: str | None
    payee_npi: str | None
    payee_tin: str | None

    @property
    def dedupe_key(self) -> tuple[str, str, int, str]:
        """(TRN03, TRN02, BPR02, payment date): a payment already loaded is skipped."""
        return (self.originator_id, self.trace_number, self.amount_cents, self.paid_on)


class ProviderAdjustment(NamedTuple):
    """One PLB reason:reference/amount pair."""

    provider_identifier: str
    fiscal_period_on: str | None
    reason_code: str
    reference: str | None
    amount_cents: int


class PaymentEnd(NamedTuple):
    """What is known only at SE: the claim count, header extras, balance faults."""

    claim_count: int
    extra: dict[str, Any]
    balance_problems: list[dict[str, Any]]
