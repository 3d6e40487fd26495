"""The reader: records with every field the reconciliation needs, warnings, order."""

from __future__ import annotations

import io
import json

import pytest

from reconcile.ingest import FileRejected
from reconcile.ingest.x12.reader import read_remittance
from reconcile.ingest.x12.records import Adjustment, ProviderAdjustment
from tests.unit.ingest.x12.test_validation import BASE
from tests.x12_support import Collector, read


def _with_se(text: str, segments: int) -> str:
    return text.replace("SE*28*0001", f"SE*{segments}*0001")


class TestRecords:
    def test_payment_header(self) -> None:
        """BPR, TRN, DTM*405, payer and payee land in the header record."""
        sink, _ = read(BASE)
        header = sink.payments[0].header
        assert header.amount_cents == 6600
        assert (header.handling_code, header.credit_debit, header.method) == (
            "I",
            "C",
            "ACH",
        )
        assert (header.format_code, header.sender_dfi, header.receiver_account) == (
            "CCP",
            "999999992",
            "98765",
        )
        assert (header.paid_on, header.paid_on_source, header.effective_on) == (
            "2024-03-01",
            "BPR16",
            "2024-03-01",
        )
        assert (header.trace_type, header.trace_number, header.originator_id) == (
            "1",
            "EFT1",
            "1512345678",
        )
        assert header.production_on == "2024-03-01"
        assert (header.payer_name, header.payer_ref_2u, header.payer_state) == (
            "DEMO HEALTH PLAN",
            "DEMO01",
            "GA",
        )
        assert (header.payee_npi, header.payee_tin, header.payee_id_qualifier) == (
            "1234567893",
            "123456789",
            "XX",
        )
        assert (header.interchange_control, header.group_control) == ("000000001", "1")
        assert (header.transaction_control, header.version, header.file_seq) == (
            "0001",
            "005010X221A1",
            1,
        )
        assert (header.interchange_sender, header.interchange_receiver) == (
            "DEMOPAYER",
            "DEMOPRACTICE",
        )

    def test_claim(self) -> None:
        """CLP, NM1, MOA, REF, DTM and AMT land in the claim record."""
        sink, _ = read(BASE)
        [claim] = sink.claims
        assert (claim.claim_id, claim.status_code, claim.lx_number) == (
            "PCN1",
            "1",
            "1",
        )
        assert (claim.charge_cents, claim.paid_cents, claim.patient_resp_cents) == (
            15000,
            7500,
            2000,
        )
        assert (claim.filing_indicator, claim.payer_control) == ("12", "ICN1")
        assert (claim.patient_last_name, claim.patient_first_name) == ("DOE", "JO")
        assert (claim.patient_identifier, claim.member_id) == ("MBR1", "MBR1")
        assert claim.original_ref == "ORIG1"
        assert (claim.statement_from_on, claim.statement_to_on) == (
            "2024-02-01",
            "2024-02-01",
        )
        assert (claim.interest_cents, claim.remark_codes) == (100, "MA01")
        assert claim.adjustments == (Adjustment("OA", "23", 500, None),)
        assert claim.extra == "{}"

    def test_service_line(self) -> None:
        """SVC, DTM*472, CAS, REF*6R, AMT*B6 and LQ land in the line record."""
        sink, _ = read(BASE)
        [line] = sink.claims[0].lines
        assert (line.procedure_qualifier, line.procedure_code, line.modifiers) == (
            "HC",
            "99213",
            "25",
        )
        assert (line.charge_cents, line.paid_cents, line.units) == (15000, 8000, "1")
        assert (line.service_from_on, line.service_to_on) == (
            "2024-02-01",
            "2024-02-01",
        )
        assert (line.line_control, line.allowed_cents, line.remark_codes) == (
            "L1",
            10000,
            "N130",
        )
        assert line.adjustments == (
            Adjustment("CO", "45", 5000, None),
            Adjustment("PR", "2", 2000, None),
        )

    def test_provider_adjustments_and_end(self) -> None:
        """Each PLB pair is a record; the payment ends with its claim count."""
        sink, _ = read(BASE)
        payment = sink.payments[0]
        assert payment.provider_adjustments == [
            ProviderAdjustment("1234567893", "2024-12-31", "WO", "REF1", 1000),
            ProviderAdjustment("1234567893", "2024-12-31", "L6", None, -100),
        ]
        assert payment.end is not None
        assert (payment.end.claim_count, payment.end.balance_problems) == (1, [])

    def test_values_without_columns_are_kept(self) -> None:
        """Other REF/AMT/QTY, MIA/MOA amounts, CLP14, TS3/TS2, RX codes go to extra."""
        text = (
            BASE.replace("LX*1~", "LX*1~TS3*1234567893*11*20241231*1*150.00~TS2*5.00~")
            .replace("MOA***MA01~", "MIA*2*1.50***MA02~MOA***MA01~QTY*CA*2~REF*EA*X9~")
            .replace("*12*ICN1~", "*12*ICN1*******Y~")
            .replace("LQ*HE*N130~", "LQ*HE*N130~LQ*RX*70~AMT*KH*3.00~REF*1B*PRV~")
        )
        sink, _ = read(_with_se(text, 36))
        claim = sink.claims[0]
        assert json.loads(claim.extra) == {
            "CLP14": "Y",
            "MIA": {"MIA01": "2", "MIA02": 150},
            "QTY": [["CA", "2"]],
            "REF": [["EA", "X9"]],
        }
        assert claim.remark_codes == "MA02 MA01"
        assert json.loads(claim.lines[0].extra) == {
            "LQ_RX": ["70"],
            "AMT": [["KH", 300]],
            "REF": [["1B", "PRV"]],
        }
        end = sink.payments[0].end
        assert end is not None
        assert end.extra["provider_summaries"] == [
            {
                "LX": "1",
                "TS3": {
                    "TS301": "1234567893",
                    "TS302": "11",
                    "TS303": "2024-12-31",
                    "TS304": "1",
                    "TS305": 15000,
                },
                "TS2": {"TS201": 500},
            }
        ]

    def test_svc06_and_description(self) -> None:
        """SVC06 (the code billed) is kept as written; descriptions go to extra."""
        text = BASE.replace("*80.00**1~", "*80.00**1*HC:99214:25::::OFFICE VISIT~")
        sink, _ = read(text)
        line = sink.claims[0].lines[0]
        assert line.original_procedure == "HC:99214:25"
        assert json.loads(line.extra) == {"SVC06-07": "OFFICE VISIT"}

    def test_unknown_segments_are_skipped_but_counted(self) -> None:
        """Segments reconcile does not use are skipped; SE01 still counts them."""
        text = BASE.replace("LX*1~", "PER*BL*HELP DESK~LX*1~ZZZ*ANYTHING~").replace(
            "NM1*QC", "NM1*GB*1*OTHER~NM1*QC"
        )
        sink, _ = read(_with_se(text, 31))
        assert sink.counts["claims"] == 1

    def test_whitespace_between_segments(self) -> None:
        """Spaces and tabs between segments are tolerated."""
        sink, _ = read(BASE.replace("~\nLX", "~ \t LX"))
        assert sink.counts["claims"] == 1


class TestPaymentDate:
    def test_missing_bpr16_falls_back_to_dtm405(self) -> None:
        """No BPR16: DTM*405 is the payment date, with a warning naming BPR."""
        text = BASE.replace("*98765*20240301~", "*98765~").replace(
            "DTM*405*20240301", "DTM*405*20240305"
        )
        sink, result = read(text)
        header = sink.payments[0].header
        assert (header.paid_on, header.paid_on_source, header.effective_on) == (
            "2024-03-05",
            "DTM405",
            None,
        )
        [warning] = result.warnings
        assert (warning.segment, warning.segment_id) == (4, "BPR")
        assert "BPR16 (payment date) is missing" in warning.reason
        assert "2024-03-05" in warning.reason

    def test_invalid_bpr16_falls_back_to_dtm405(self) -> None:
        """A BPR16 that is not a date warns and falls back the same way."""
        sink, result = read(BASE.replace("*98765*20240301~", "*98765*20241399~"))
        assert sink.payments[0].header.paid_on_source == "DTM405"
        assert "'20241399' is not a date" in result.warnings[0].reason

    def test_date_in_bpr15_is_pointed_out(self) -> None:
        """When BPR15 holds a date and BPR16 is missing, the warning says so."""
        text = BASE.replace("*DA*98765*20240301~", "*DA*20240301~")
        _, result = read(text)
        assert "BPR15 holds a date" in result.warnings[0].reason


class TestComposites:
    def test_other_component_separator_warns_once(self) -> None:
        """SVC01 written with '>' under ISA16 ':' is read as written, one warning."""
        text = BASE.replace("SVC*HC:99213:25", "SVC*HC>99213>25")
        sink, result = read(text)
        line = sink.claims[0].lines[0]
        assert (line.procedure_code, line.modifiers) == ("99213", "25")
        [warning] = result.warnings
        assert warning.segment_id == "SVC"
        assert "'>'" in warning.reason
        assert "kept as written" in warning.reason

    def test_plb_composite_with_other_separator(self) -> None:
        """A PLB reason:reference written with another separator is read too."""
        sink, result = read(BASE.replace("WO:REF1", "WO>REF1>X"))
        assert sink.payments[0].provider_adjustments[0].reference == "REF1>X"
        assert result.warnings[0].segment_id == "PLB"


class TestEmission:
    def test_no_records_after_the_first_fault(self) -> None:
        """Records stop at the first rejecting fault; reading goes on to list all."""
        text = BASE.replace("CLP*PCN1*1*", "CLP*PCN1*9*").replace(
            "CAS*OA*23", "CAS*CR*23"
        )
        sink = Collector()
        with pytest.raises(FileRejected) as rejected:
            read_remittance(io.BytesIO(text.encode()), sink=sink)
        assert sink.counts["payments"] == 1
        assert sink.claims == []
        assert sink.payments[0].end is None
        assert len(rejected.value.problems) == 2

    def test_several_interchanges_number_their_payments(self) -> None:
        """file_seq counts transaction sets through the whole file."""
        second = BASE.replace("000000001", "000000002").replace("EFT1", "EFT2")
        sink, result = read(BASE + second)
        assert [p.header.file_seq for p in sink.payments] == [1, 2]
        assert [p.header.interchange_control for p in sink.payments] == [
            "000000001",
            "000000002",
        ]
        assert result.transactions == 2
