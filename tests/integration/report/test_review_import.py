"""Review import: decisions typed into a run's workbook come back, checked against
the items' current state, applied all or none with audit events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select, update

from reconcile.categories import RecoupmentStatus, RefundStatus
from reconcile.db.tables import AuditEvent, ReconException, Recoupment, Refund
from reconcile.queues import decide_exception, verify_chain
from reconcile.report import ReviewOutcome, ReviewRefused, import_review
from reconcile.report.decisions import apply_plan, plan_review
from reconcile.report.review import read_review
from reconcile.settings import ReportSettings, Settings
from tests.factories import make_recoupment, make_refund, make_scenario
from tests.helpers import run

AT = dt.datetime(2024, 4, 2, 15, tzinfo=dt.UTC)


@dataclass
class Returned:
    """A run's workbook and the ids on it."""

    engine: Engine
    path: Path
    exceptions: dict[str, int]  # claim id → exception id (underpaid, denied, …)
    refunds: dict[str, int]  # status → refund id
    recoupments: dict[str, int]  # status → recoupment id

    def type_in(self, sheet: str, item_id: int, **values: Any) -> int:
        """Type values into the row of ``item_id`` by header; return the row number."""
        wb = load_workbook(self.path)
        ws = wb[sheet]
        headers = {cell.value: cell.column for cell in ws[2]}
        row = next(
            r for r in range(3, ws.max_row + 1) if ws.cell(r, 2).value == item_id
        )
        for header, value in values.items():
            ws.cell(row=row, column=headers[header.replace("_", " ")], value=value)
        wb.save(self.path)
        return row

    def apply(self, *, dry_run: bool = False) -> ReviewOutcome:
        """Import the workbook as ana."""
        return import_review(
            engine=self.engine,
            path=self.path,
            actor="ana",
            at=AT,
            settings=Settings(),
            dry_run=dry_run,
        )

    def refused(self) -> list[str]:
        """Import, expecting a refusal; return the problems as printed."""
        with pytest.raises(ReviewRefused) as refused:
            self.apply()
        return [str(p) for p in refused.value.problems]

    def status(self, table: Any, item_id: int) -> str:
        """An item's status now."""
        with self.engine.connect() as conn:
            return str(
                conn.execute(
                    select(table.status).where(table.id == item_id)
                ).scalar_one()
            )

    def events(self) -> int:
        """How many audit events exist."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
            )


@pytest.fixture
def returned(fresh_engine: Engine, tmp_path: Path) -> Returned:
    """The scenario's run with refunds and recoupments in every open status."""
    with fresh_engine.begin() as conn:
        make_scenario(conn)
        refunds = {
            str(status): make_refund(
                conn,
                status=status,
                claim_id=f"R-{status}",
                due_rule="medicare_medicaid",
            )
            for status in (
                RefundStatus.QUEUED,
                RefundStatus.APPROVED,
                RefundStatus.ISSUED,
            )
        }
        recoupments = {
            str(status): make_recoupment(conn, status=status, claim_id=f"P-{status}")
            for status in (RecoupmentStatus.NOTICED, RecoupmentStatus.OFFSET)
        }
    settings = replace(Settings(), reports=ReportSettings(folder=str(tmp_path)))
    result = run(fresh_engine, settings=settings)
    assert result.report_path is not None
    with fresh_engine.connect() as conn:
        exceptions = {
            str(claim): exception_id
            for exception_id, claim in conn.execute(
                select(ReconException.id, ReconException.claim_id).where(
                    ReconException.kind.in_(["underpaid", "denied", "unpaid_claim"])
                )
            )
        }
    return Returned(fresh_engine, result.report_path, exceptions, refunds, recoupments)


class TestApply:
    def test_every_kind_of_decision(self, returned: Returned) -> None:
        """Exception decisions, refund and recoupment actions, each with an event."""
        r = returned
        r.type_in(
            "Underpaid claims",
            r.exceptions["UNDER"],
            Decision="write_off",
            Note="below the appeal threshold",
        )
        r.type_in(
            "Denials", r.exceptions["DENY"], Decision="appeal", Note="auth on file"
        )
        r.type_in("Refunds", r.refunds["queued"], Decision="approve")
        r.type_in("Refunds", r.refunds["approved"], Decision="issue", Reference=10234)
        r.type_in("Refunds", r.refunds["issued"], Decision="close", Note="cashed")
        r.type_in(
            "Recoupments",
            r.recoupments["noticed"],
            Decision="dispute",
            Note="outside the look-back",
        )
        r.type_in("Recoupments", r.recoupments["offset"], Decision="close")
        before = r.events()
        outcome = r.apply()
        assert len(outcome.applied) == 7
        assert outcome.skipped == []
        assert r.status(Refund, r.refunds["queued"]) == "approved"
        assert r.status(Refund, r.refunds["approved"]) == "issued"
        assert r.status(Refund, r.refunds["issued"]) == "closed"
        assert r.status(Recoupment, r.recoupments["noticed"]) == "disputed"
        assert r.status(Recoupment, r.recoupments["offset"]) == "closed"
        with r.engine.connect() as conn:
            decided = conn.execute(
                select(
                    ReconException.status,
                    ReconException.decision,
                    ReconException.decision_note,
                    ReconException.decided_by,
                ).where(ReconException.id == r.exceptions["UNDER"])
            ).one()
            reference = conn.execute(
                select(Refund.reference).where(Refund.id == r.refunds["approved"])
            ).scalar_one()
            assert verify_chain(conn).ok
        assert tuple(map(str, decided)) == (
            "resolved",
            "write_off",
            "below the appeal threshold",
            "ana",
        )
        assert reference == "10234"
        assert r.events() == before + 7
        changes = [p.change for p in outcome.applied]
        assert f"refund {r.refunds['queued']}: queued → approved (approve)" in changes

    def test_suspension(self, returned: Returned) -> None:
        """A refund's 60-day clock is suspended until the typed date, with the note."""
        r = returned
        r.type_in(
            "Refunds",
            r.refunds["queued"],
            Decision="suspend",
            Note="investigating",
            Suspend_until=dt.date(2024, 6, 1),
        )
        r.apply()
        with r.engine.connect() as conn:
            until, reason = conn.execute(
                select(Refund.suspended_until, Refund.suspension_reason).where(
                    Refund.id == r.refunds["queued"]
                )
            ).one()
        assert (until, reason) == (dt.date(2024, 6, 1), "investigating")

    def test_dry_run_changes_nothing(self, returned: Returned) -> None:
        """--dry-run reports what it would apply and writes nothing."""
        r = returned
        r.type_in("Refunds", r.refunds["queued"], Decision="approve")
        before = r.events()
        outcome = r.apply(dry_run=True)
        assert outcome.dry_run
        assert len(outcome.applied) == 1
        assert r.status(Refund, r.refunds["queued"]) == "queued"
        assert r.events() == before

    def test_importing_twice_changes_nothing_the_second_time(
        self, returned: Returned
    ) -> None:
        """The second import skips every decision the items already carry."""
        r = returned
        r.type_in(
            "Underpaid claims",
            r.exceptions["UNDER"],
            Decision="dismissed",
            Note="duplicate of a posting fix",
        )
        r.type_in("Refunds", r.refunds["queued"], Decision="approve")
        r.type_in("Refunds", r.refunds["queued"] + 0, Decision="approve")
        r.type_in(
            "Recoupments", r.recoupments["noticed"], Decision="repay", Reference="CHK9"
        )
        r.apply()
        events = r.events()
        again = r.apply()
        assert again.applied == []
        assert len(again.skipped) == 3
        assert r.events() == events
        assert any("is already approved" in s.why for s in again.skipped)

    def test_no_decisions(self, returned: Returned) -> None:
        """A workbook returned untouched applies nothing and is not an error."""
        outcome = returned.apply()
        assert outcome.applied == []
        assert outcome.skipped == []


class TestRefusals:
    @pytest.mark.parametrize(
        ("sheet", "item", "values", "message"),
        [
            (
                "Refunds",
                ("refunds", "queued"),
                {"Decision": "issue", "Reference": "C1"},
                "is queued; issue needs it to be approved",
            ),
            (
                "Refunds",
                ("refunds", "approved"),
                {"Decision": "issue"},
                "issue needs a Reference",
            ),
            (
                "Refunds",
                ("refunds", "queued"),
                {"Decision": "cancel"},
                "cancel needs a Note",
            ),
            (
                "Refunds",
                ("refunds", "queued"),
                {"Decision": "suspend", "Note": "x"},
                "suspend needs the Suspend until date",
            ),
            (
                "Refunds",
                ("refunds", "queued"),
                {
                    "Decision": "suspend",
                    "Note": "x",
                    "Suspend until": dt.date(2025, 1, 1),
                },
                "must end between 2024-03-01 and 2024-08-28",
            ),
            (
                "Refunds",
                ("refunds", "queued"),
                {"Decision": "write_off", "Note": "x"},
                "'write_off' is not a refund decision; use one of approve, issue, "
                "close, cancel, suspend",
            ),
            (
                "Refunds",
                ("refunds", "queued"),
                {"Decision": "approve", "Note": "n" * 501},
                "the Note is longer than 500 characters",
            ),
            (
                "Recoupments",
                ("recoupments", "offset"),
                {"Decision": "repay", "Reference": "CHK1"},
                "is offset; repay needs it to be noticed or pending",
            ),
            (
                "Recoupments",
                ("recoupments", "noticed"),
                {"Decision": "dispute"},
                "dispute needs a Note",
            ),
            (
                "Underpaid claims",
                ("exceptions", "UNDER"),
                {"Decision": "approve"},
                "'approve' is not a exception decision",
            ),
            (
                "Underpaid claims",
                ("exceptions", "UNDER"),
                {"Decision": "write_off"},
                "write_off needs a Note",
            ),
        ],
    )
    def test_refused_with_sheet_and_row(
        self,
        returned: Returned,
        sheet: str,
        item: tuple[str, str],
        values: dict[str, Any],
        message: str,
    ) -> None:
        """Each refusal names its sheet and row; nothing changes."""
        item_id = getattr(returned, item[0])[item[1]]
        row = returned.type_in(
            sheet, item_id, **{k.replace(" ", "_"): v for k, v in values.items()}
        )
        before = returned.events()
        problems = returned.refused()
        assert len(problems) == 1
        assert problems[0].startswith(f"'{sheet}' row {row}: ")
        assert message in problems[0]
        assert returned.events() == before

    def test_unknown_id(self, returned: Returned) -> None:
        """An id that names nothing is refused."""
        r = returned
        r.type_in("Refunds", r.refunds["queued"], Decision="approve", Refund_ID=9999)
        assert r.refused() == ["'Refunds' row 3: there is no refund 9999"]

    def test_item_changed_since_the_workbook_was_written(
        self, returned: Returned
    ) -> None:
        """A refund whose amount changed after the workbook was written is refused."""
        r = returned
        r.type_in("Refunds", r.refunds["queued"], Decision="approve")
        with r.engine.begin() as conn:
            conn.execute(
                update(Refund)
                .where(Refund.id == r.refunds["queued"])
                .values(amount_cents=99_999)
            )
        (problem,) = r.refused()
        assert (
            "changed since the workbook was written (now queued, 999.99 at stake)"
            in problem
        )

    def test_decided_by_someone_else_differently(self, returned: Returned) -> None:
        """An exception already decided otherwise is a change, not a skip."""
        r = returned
        r.type_in(
            "Underpaid claims", r.exceptions["UNDER"], Decision="write_off", Note="n"
        )
        with r.engine.begin() as conn:
            decide_exception(
                conn,
                exception_id=r.exceptions["UNDER"],
                decision="appeal",
                note="bo's call",
                actor="bo",
                at=AT,
            )
        (problem,) = r.refused()
        assert "now resolved, decided appeal" in problem

    def test_two_different_decisions_for_one_item(self, returned: Returned) -> None:
        """The same item decided twice, differently, is refused."""
        r = returned
        row = r.type_in("Refunds", r.refunds["queued"], Decision="approve")
        wb = load_workbook(r.path)
        ws = wb["Refunds"]
        copy = ws.max_row + 1
        for cell in ws[row]:
            ws.cell(row=copy, column=cell.column, value=cell.value)
        decision = next(c.column for c in ws[2] if c.value == "Decision")
        note = next(c.column for c in ws[2] if c.value == "Note")
        ws.cell(row=copy, column=decision, value="cancel")
        ws.cell(row=copy, column=note, value="not owed")
        wb.save(r.path)
        (problem,) = r.refused()
        assert problem == (
            f"'Refunds' row {copy}: refund {r.refunds['queued']} has another decision "
            f"on 'Refunds' row {row}; keep one"
        )

    def test_all_or_nothing(self, returned: Returned) -> None:
        """One bad decision among good ones: none is applied, every problem listed."""
        r = returned
        r.type_in("Refunds", r.refunds["queued"], Decision="approve")
        r.type_in(
            "Recoupments", r.recoupments["noticed"], Decision="dispute", Note="late"
        )
        r.type_in("Refunds", r.refunds["issued"], Decision="approve")
        r.type_in("Denials", r.exceptions["DENY"], Decision="maybe")
        problems = r.refused()
        assert len(problems) == 2
        assert r.status(Refund, r.refunds["queued"]) == "queued"
        assert r.status(Recoupment, r.recoupments["noticed"]) == "noticed"

    def test_change_between_check_and_apply_rolls_back(
        self, returned: Returned
    ) -> None:
        """If a workflow refuses after the check, the caller gets the refusal back."""
        r = returned
        r.type_in("Refunds", r.refunds["queued"], Decision="approve")
        rows = read_review(r.path).rows
        with r.engine.begin() as conn:
            plan = plan_review(conn, rows=rows, settings=Settings())
            conn.execute(
                update(Refund)
                .where(Refund.id == r.refunds["queued"])
                .values(status=RefundStatus.CANCELLED)
            )
            refused = apply_plan(
                conn, plan=plan, actor="ana", at=AT, settings=Settings()
            )
            assert [p.row for p in refused] == [3]
            assert "is cancelled" in refused[0].message
            conn.rollback()
