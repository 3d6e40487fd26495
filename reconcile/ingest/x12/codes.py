"""The 005010X221A1 code lists the reader enforces.

From the pyx12 5010 map (``azoner/pyx12: pyx12/map/835.5010.X221.A1.xml``), as quoted
in the team's 835 reference. Codes that drive reconciliation (payment handling and
method, claim status, adjustment groups, PLB reasons) are checked; free code lists
that change often (CARC, RARC) are checked only for their form.
"""

from __future__ import annotations

#: The only version this reader accepts (GS08, and ST03 when present).
VERSION = "005010X221A1"

#: GS01 of a health care claim payment/advice group.
FUNCTIONAL_ID = "HP"

#: BPR01 transaction handling.
HANDLING_CODES = frozenset({"C", "D", "H", "I", "P", "U", "X"})
#: BPR03 credit or debit.
CREDIT_DEBIT_CODES = frozenset({"C", "D"})
#: BPR04 payment method (NON: no money moves).
PAYMENT_METHODS = frozenset({"ACH", "BOP", "CHK", "FWT", "NON"})
#: BPR05 payment format.
PAYMENT_FORMATS = frozenset({"CCP", "CTX"})
#: TRN01 trace type: current transaction trace numbers.
TRACE_TYPES = frozenset({"1"})

#: CLP02 claim status: the ten values valid in 5010 (22 is a reversal).
CLAIM_STATUS_CODES = frozenset({"1", "2", "3", "4", "19", "20", "21", "22", "23", "25"})
REVERSAL_STATUS = "22"

#: CAS01 adjustment group. ``CR`` existed only in 4010 and is invalid in 5010.
ADJUSTMENT_GROUPS = frozenset({"CO", "OA", "PI", "PR"})

#: PLB03-1 (and every other PLB reason) adjustment reason.
PLB_REASON_CODES = frozenset(
    {
        "50", "51", "72", "90", "AH", "AM", "AP", "B2", "B3", "BD", "BN", "C5", "CR",
        "CS", "CT", "CV", "CW", "DM", "E3", "FB", "FC", "GO", "HM", "IP", "IR", "IS",
        "J1", "L3", "L6", "LE", "LS", "OA", "OB", "PI", "PL", "RA", "RE", "SL", "TL",
        "WO", "WU",
    }
)  # fmt: skip

#: SVC01-1 product or service id qualifier.
SERVICE_QUALIFIERS = frozenset(
    {"AD", "ER", "HC", "HP", "IV", "N4", "N6", "NU", "UI", "WK"}
)

#: LQ01 code list qualifier (HE: remark codes; RX: NCPDP reject codes).
REMARK_LIST_QUALIFIERS = frozenset({"HE", "RX"})
