"""Loading 835 files: whole or nothing, in bulk, idempotent, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select

from reconcile.categories import SourceKind, SourceStatus
from reconcile.db.bulk import write_transaction
from reconcile.db.tables import (
    SourceFile,
    X12Adjustment,
    X12ClaimPayment,
    X12Payment,
    X12ProviderAdjustment,
    X12ServiceLine,
)
from reconcile.demo.x12_writer import (
    Adjustment,
    Claim,
    Line,
    Payment,
    save_835,
    single,
)
from reconcile.ingest import ImportStatus
from reconcile.ingest.x12.load import DatabaseSink
from reconcile.ingest.x12.reader import read_remittance
from tests.integration.ingest.era_helpers import CLOCK, import_era, row_counts
from tests.x12_scenarios import SCENARIOS, office_visit

VALID = [name for name, s in SCENARIOS.items() if s.valid]


def _path(name: str) -> Path:
    return SCENARIOS[name].path


class TestLoad:
    def test_every_table_is_written(self, fresh_engine: Engine) -> None:
        """A file's payments, claims, lines, CAS and PLB land linked in their tables."""
        [outcome] = import_era(fresh_engine, _path("reversal_deferred_wo"))
        assert outcome.status is ImportStatus.LOADED
        assert outcome.counts == row_counts(fresh_engine)
        with fresh_engine.connect() as conn:
            payment = conn.execute(select(X12Payment)).one()
            claims = conn.execute(
                select(X12ClaimPayment).order_by(X12ClaimPayment.seq)
            ).all()
            plb = conn.execute(select(X12ProviderAdjustment)).one()
            adjustments = conn.execute(
                select(X12Adjustment).order_by(X12Adjustment.id)
            ).all()
        assert (payment.paid_on, payment.effective_on) == (dt.date(2024, 3, 5),) * 2
        assert (payment.amount_cents, payment.claim_count, payment.unbalanced) == (
            0,
            2,
            False,
        )
        assert payment.source_file_id is not None
        assert [(c.seq, c.status_code, c.paid_cents) for c in claims] == [
            (1, "22", -12000),
            (2, "1", 10000),
        ]
        assert all(c.payment_id == payment.id for c in claims)
        assert (plb.reason_code, plb.reference, plb.amount_cents, plb.seq) == (
            "WO",
            "ICN-OLD",
            -2000,
            1,
        )
        assert plb.fiscal_period_on == dt.date(2024, 12, 31)
        assert [a.seq for a in adjustments if a.claim_payment_id == claims[0].id] == [
            1,
            2,
        ]
        assert all(a.service_line_id is not None for a in adjustments)

    def test_claim_and_line_columns(self, fresh_engine: Engine) -> None:
        """Dates, references and JSON extras are stored as their column types."""
        import_era(fresh_engine, _path("ach_two_claims"))
        with fresh_engine.connect() as conn:
            claim = conn.execute(
                select(X12ClaimPayment).where(X12ClaimPayment.claim_id == "PCN1001")
            ).one()
            lines = conn.execute(
                select(X12ServiceLine)
                .where(X12ServiceLine.claim_payment_id == claim.id)
                .order_by(X12ServiceLine.seq)
            ).all()
            claim_level = conn.execute(
                select(X12Adjustment).where(X12Adjustment.service_line_id.is_(None))
            ).all()
            payment = conn.execute(select(X12Payment)).one()
        assert (claim.statement_from_on, claim.member_id, claim.extra) == (
            dt.date(2024, 2, 5),
            "MBR0001",
            {},
        )
        assert [
            (line.procedure_code, line.modifiers, line.line_control) for line in lines
        ] == [
            ("99213", None, "PCN1001-1"),
            ("36415", "25", "PCN1001-2"),
        ]
        assert lines[0].service_from_on == dt.date(2024, 2, 5)
        assert lines[0].allowed_cents == 10000
        assert [(a.group_code, a.reason_code, a.amount_cents) for a in claim_level] == [
            ("OA", "23", 1200)
        ]
        assert (payment.payer_state, payment.payee_tin, payment.payer_ref_2u) == (
            "GA",
            "123456789",
            "DEMO01",
        )
        assert payment.extra == {
            "payer": {
                "N3": [["100 MAIN STREET"]],
                "N4": [["CAPITAL CITY", "GA", "30301"]],
            }
        }

    @pytest.mark.parametrize("name", VALID)
    def test_sums_equal_the_model(self, fresh_engine: Engine, name: str) -> None:
        """What is stored adds up to what the scenario's payments say."""
        [outcome] = import_era(fresh_engine, _path(name))
        assert outcome.status is ImportStatus.LOADED
        kept = {}
        for payment in SCENARIOS[name].payments:
            key = (payment.trace_number, payment.amount)
            kept.setdefault(key, payment)
        with fresh_engine.connect() as conn:
            stored = conn.execute(select(func.sum(X12Payment.amount_cents))).scalar()
            paid = conn.execute(select(func.sum(X12ClaimPayment.paid_cents))).scalar()
        assert stored == sum(p.amount for p in kept.values())
        assert paid == sum(c.paid for p in kept.values() for c in p.claims)

    def test_notification_only_payment_loads(self, fresh_engine: Engine) -> None:
        """BPR*H*0*C*NON loads like any payment (matching will ignore it)."""
        import_era(fresh_engine, _path("notification_only_h_non"))
        with fresh_engine.connect() as conn:
            payment = conn.execute(select(X12Payment)).one()
        assert (payment.handling_code, payment.method, payment.amount_cents) == (
            "H",
            "NON",
            0,
        )

    def test_bpr16_fallback_is_stored_with_its_source(
        self, fresh_engine: Engine
    ) -> None:
        """Without BPR16, paid_on is DTM*405 and effective_on stays empty."""
        [outcome] = import_era(fresh_engine, _path("missing_bpr16"))
        with fresh_engine.connect() as conn:
            payment = conn.execute(select(X12Payment)).one()
            file = conn.execute(select(SourceFile)).one()
        assert (payment.paid_on, payment.paid_on_source, payment.effective_on) == (
            dt.date(2024, 3, 18),
            "DTM405",
            None,
        )
        assert outcome.warnings[0].segment_id == "BPR"
        assert file.warnings[0]["segment_id"] == "BPR"


class TestIdempotence:
    def test_same_file_again_is_already_imported(self, fresh_engine: Engine) -> None:
        """The same bytes a second time write nothing."""
        path = _path("several_interchanges")
        import_era(fresh_engine, path)
        before = row_counts(fresh_engine)
        [again] = import_era(fresh_engine, path)
        assert again.status is ImportStatus.ALREADY_IMPORTED
        assert row_counts(fresh_engine) == before

    def test_payment_from_another_file_is_skipped(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """A payment already loaded by another file is skipped; the rest loads."""
        visit = office_visit("PCN1001", icn="ICN1001")
        first = tmp_path / "first.835"
        save_835(first, single(Payment("EFT1", dt.date(2024, 3, 1), claims=(visit,))))
        second = tmp_path / "second.835"
        save_835(
            second,
            single(
                Payment("EFT1", dt.date(2024, 3, 1), claims=(visit,)),
                Payment("EFT2", dt.date(2024, 3, 1), claims=(visit,)),
                control=2,
            ),
        )
        import_era(fresh_engine, first)
        [outcome] = import_era(fresh_engine, second)
        assert (outcome.counts["payments"], outcome.counts["claims"]) == (1, 1)
        assert outcome.skipped == 1
        assert row_counts(fresh_engine)["payments"] == 2

    def test_duplicate_inside_one_file_is_skipped(self, fresh_engine: Engine) -> None:
        """The second copy of a payment in the same file is not written."""
        [outcome] = import_era(fresh_engine, _path("duplicate_payment_in_file"))
        assert (outcome.counts["payments"], outcome.skipped) == (2, 1)
        assert row_counts(fresh_engine)["payments"] == 2

    def test_fallback_date_stands_in_the_key(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """A payment keyed by its DTM*405 date matches one sent with that BPR16."""
        import_era(fresh_engine, _path("missing_bpr16"))
        model = SCENARIOS["missing_bpr16"].payments[0]
        again = tmp_path / "with_bpr16.835"
        save_835(
            again,
            single(Payment(**{**model.__dict__, "paid_on": dt.date(2024, 3, 18)})),
        )
        [outcome] = import_era(fresh_engine, again)
        assert (outcome.counts["payments"], outcome.skipped) == (0, 1)


class TestWholeOrNothing:
    def test_rejected_file_leaves_nothing(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """A file failing late (after rows were written) is rolled back whole."""
        text = (
            _path("several_interchanges")
            .read_text()
            .replace("IEA*1*000000702", "IEA*1*1")
        )
        bad = tmp_path / "bad.835"
        bad.write_text(text)
        outcomes = import_era(fresh_engine, bad, _path("ach_two_claims"))
        assert [o.status for o in outcomes] == [
            ImportStatus.REJECTED,
            ImportStatus.LOADED,
        ]
        assert row_counts(fresh_engine)["payments"] == 1
        with fresh_engine.connect() as conn:
            rejected = conn.execute(
                select(SourceFile).where(SourceFile.status == SourceStatus.REJECTED)
            ).one()
        assert rejected.reject_reason is not None
        assert rejected.reject_reason[0]["segment_id"] == "IEA"

    def test_unbalanced_file_is_rejected(self, fresh_engine: Engine) -> None:
        """By default a balancing fault rejects the file."""
        [outcome] = import_era(fresh_engine, _path("unbalanced_claim"))
        assert outcome.status is ImportStatus.REJECTED
        assert "does not balance" in outcome.reason[0].reason
        assert row_counts(fresh_engine)["payments"] == 0

    def test_allow_unbalanced_loads_and_marks(self, fresh_engine: Engine) -> None:
        """--allow-unbalanced loads it, marking the payment and the file."""
        [outcome] = import_era(
            fresh_engine, _path("unbalanced_claim"), allow_unbalanced=True
        )
        assert outcome.status is ImportStatus.LOADED
        assert "loaded although unbalanced" in outcome.warnings[0].reason
        with fresh_engine.connect() as conn:
            payment = conn.execute(select(X12Payment)).one()
            file = conn.execute(select(SourceFile)).one()
        assert payment.unbalanced is True
        assert payment.balance_problems[0]["segment_id"] == "CLP"
        assert file.allowed_unbalanced is True

    def test_allow_unbalanced_on_a_balanced_file(self, fresh_engine: Engine) -> None:
        """A balanced file loaded with the flag is not marked."""
        import_era(fresh_engine, _path("ach_two_claims"), allow_unbalanced=True)
        with fresh_engine.connect() as conn:
            file = conn.execute(select(SourceFile)).one()
            payment = conn.execute(select(X12Payment)).one()
        assert (file.allowed_unbalanced, payment.unbalanced) == (False, False)
        assert payment.balance_problems == []

    def test_check_writes_nothing(self, fresh_engine: Engine) -> None:
        """--check reports what would load and leaves the database untouched."""
        [outcome] = import_era(fresh_engine, _path("ach_two_claims"), check=True)
        assert outcome.status is ImportStatus.VALID
        assert outcome.counts["claims"] == 2
        assert row_counts(fresh_engine)["payments"] == 0


def _file_row(conn) -> int:  # type: ignore[no-untyped-def]
    return conn.execute(
        insert(SourceFile)
        .values(
            kind=SourceKind.ERA,
            name="x",
            path="x",
            sha256="0" * 64,
            size_bytes=1,
            status=SourceStatus.LOADED,
            imported_at=CLOCK.now(),
            counts={},
            skipped=0,
            warnings=[],
            allowed_unbalanced=False,
        )
        .returning(SourceFile.id)
    ).scalar_one()


class TestBulkWriting:
    def test_small_batches_and_id_blocks(self, fresh_engine: Engine) -> None:
        """Flushing mid-payment (completed later by UPDATE) keeps every link right."""
        path = _path("several_interchanges")
        with write_transaction(fresh_engine) as conn:
            sink = DatabaseSink(conn, source_file_id=_file_row(conn), flush_rows=3)
            with path.open("rb") as stream:
                read_remittance(stream, sink=sink)
            sink.flush()
        with fresh_engine.connect() as conn:
            payments = conn.execute(select(X12Payment).order_by(X12Payment.id)).all()
            per_payment = dict(
                conn.execute(
                    select(X12ClaimPayment.payment_id, func.count()).group_by(
                        X12ClaimPayment.payment_id
                    )
                ).all()
            )
            orphans = conn.execute(
                select(func.count())
                .select_from(X12Adjustment)
                .join(
                    X12ServiceLine, X12Adjustment.service_line_id == X12ServiceLine.id
                )
                .where(
                    X12ServiceLine.claim_payment_id != X12Adjustment.claim_payment_id
                )
            ).scalar_one()
        assert [p.claim_count for p in payments] == [1, 1, 1, 1, 2]
        assert {p.id: p.claim_count for p in payments} == per_payment
        assert orphans == 0
        assert sink.counts == row_counts(fresh_engine)

    def test_two_files_get_distinct_ids(self, fresh_engine: Engine) -> None:
        """Ids reserved for one file never collide with the next file's."""
        import_era(fresh_engine, _path("several_interchanges"), _path("ach_two_claims"))
        with fresh_engine.connect() as conn:
            files = conn.execute(
                select(X12Payment.source_file_id, func.count()).group_by(
                    X12Payment.source_file_id
                )
            ).all()
        assert sorted(n for _, n in files) == [1, 5]

    def test_large_file_in_many_batches(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """A file larger than one batch loads completely."""
        claims = tuple(
            Claim(f"PCN{i}", lines=(Line("99213", 10000 + i),)) for i in range(2500)
        )
        path = tmp_path / "big.835"
        save_835(path, single(Payment("EFTBIG", dt.date(2024, 3, 1), claims=claims)))
        [outcome] = import_era(fresh_engine, path)
        assert outcome.counts["claims"] == 2500
        assert row_counts(fresh_engine)["service_lines"] == 2500


@pytest.mark.postgres
def test_reserved_ids_move_the_sequences(fresh_engine: Engine) -> None:
    """On PostgreSQL, rows inserted after a load get ids past the reserved ones."""
    import_era(fresh_engine, _path("ach_two_claims"))
    with write_transaction(fresh_engine) as conn:
        highest = conn.execute(select(func.max(X12ClaimPayment.id))).scalar_one()
        file_id = _file_row(conn)
        new_payment = conn.execute(
            insert(X12Payment)
            .values(
                source_file_id=file_id,
                file_seq=1,
                interchange_control="1",
                interchange_sender="S",
                interchange_receiver="R",
                group_control="1",
                transaction_control="0001",
                version="005010X221A1",
                handling_code="I",
                amount_cents=0,
                credit_debit="C",
                method="NON",
                paid_on=dt.date(2024, 1, 1),
                paid_on_source="BPR16",
                trace_type="1",
                trace_number="N",
                originator_id="1",
                extra={},
                claim_count=0,
                unbalanced=False,
                balance_problems=[],
            )
            .returning(X12Payment.id)
        ).scalar_one()
        claim_id = conn.execute(
            insert(X12ClaimPayment)
            .values(
                payment_id=new_payment,
                seq=1,
                claim_id="X",
                status_code="1",
                charge_cents=0,
                paid_cents=0,
                extra={},
            )
            .returning(X12ClaimPayment.id)
        ).scalar_one()
    assert claim_id > highest


class TestReservationsCrossingBlocks:
    def test_many_lines_and_adjustments_all_land_linked(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Id blocks run out mid-claim many times: no row is lost, every link holds."""
        claims = tuple(
            Claim(
                claim_id=f"BLK{n:04d}",
                adjustments=(Adjustment("OA", "23", 1),) if n % 3 == 0 else (),
                lines=tuple(
                    Line(
                        procedure="99213",
                        charge_cents=10_000 + line,
                        adjustments=(
                            Adjustment("CO", "45", 2_000),
                            Adjustment("PR", "2", 1_000 + line),
                        ),
                    )
                    for line in range(1 + n % 3)
                ),
            )
            for n in range(150)
        )
        path = tmp_path / "blocks.835"
        save_835(
            path,
            single(
                Payment(
                    trace_number="BLOCKS1", paid_on=dt.date(2024, 3, 1), claims=claims
                )
            ),
        )
        [outcome] = import_era(fresh_engine, path)
        assert outcome.status is ImportStatus.LOADED
        expected_lines = sum(1 + n % 3 for n in range(150))
        assert outcome.counts["service_lines"] == expected_lines
        assert row_counts(fresh_engine) == outcome.counts
        with fresh_engine.connect() as conn:
            orphans = conn.execute(
                select(func.count())
                .select_from(X12Adjustment)
                .outerjoin(
                    X12ServiceLine, X12ServiceLine.id == X12Adjustment.service_line_id
                )
                .where(
                    X12Adjustment.service_line_id.is_not(None),
                    X12ServiceLine.id.is_(None),
                )
            ).scalar_one()
        assert orphans == 0
