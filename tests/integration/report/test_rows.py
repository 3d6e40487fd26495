"""Which items a workbook lists, the Summary figures, and the deadline rules — on the
database (SQLite, and PostgreSQL when RECONCILE_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from sqlalchemy import Connection, select, update

from reconcile.categories import (
    Decision,
    ExceptionKind,
    ExceptionStatus,
    RecoupmentStatus,
    RefundStatus,
)
from reconcile.db.tables import ReconException, ReconRun, Recoupment, Refund
from reconcile.report.deadlines import (
    HORIZONS,
    recoupment_days_left,
    refund_days_left,
)
from reconcile.report.figures import kind_figures, recoupment_figures, refund_figures
from reconcile.report.rows import exception_rows, recoupment_rows, refund_rows
from reconcile.report.scope import ReportScope, load_run
from tests.factories import (
    make_claim_payment,
    make_exception,
    make_payment,
    make_recoupment,
    make_refund,
    make_run,
)

AS_OF = dt.date(2024, 3, 31)
LATER = dt.datetime(2024, 4, 2, 9, tzinfo=dt.UTC)
D = dt.date


def scope_of(conn: Connection, run_id: int, *, current: bool = False) -> ReportScope:
    """The scope of a run's workbook."""
    return ReportScope(
        run=load_run(conn, run_id=run_id), current_at=LATER if current else None
    )


def finish(conn: Connection, run_id: int) -> None:
    """Record the run as finished on April 1st."""
    conn.execute(
        update(ReconRun)
        .where(ReconRun.id == run_id)
        .values(finished_at=dt.datetime(2024, 4, 1, 6, 5, tzinfo=dt.UTC), summary={})
    )


def set_exception(conn: Connection, exception_id: int, **values: object) -> None:
    """Change an exception row directly."""
    conn.execute(
        update(ReconException).where(ReconException.id == exception_id).values(**values)
    )


class TestListedExceptions:
    def test_open_as_of_the_run(self, connection: Connection) -> None:
        """Open, or resolved only after the as-of date; identified by then."""
        run = make_run(connection)
        open_one = make_exception(connection, run_id=run)
        resolved_later = make_exception(connection, run_id=run)
        set_exception(
            connection,
            resolved_later,
            status=ExceptionStatus.RESOLVED,
            resolved_on=D(2024, 4, 5),
            resolved_by_run_id=run,
        )
        resolved_before = make_exception(connection, run_id=run)
        set_exception(
            connection,
            resolved_before,
            status=ExceptionStatus.RESOLVED,
            resolved_on=AS_OF,
            resolved_by_run_id=run,
        )
        make_exception(connection, run_id=run, identified_on=D(2024, 4, 1))
        rows = list(
            exception_rows(
                connection,
                scope=scope_of(connection, run),
                kind=ExceptionKind.UNDERPAID,
                names=False,
            )
        )
        assert {r.id for r in rows} == {open_one, resolved_later}
        later = next(r for r in rows if r.id == resolved_later)
        assert later.status == "resolved"
        assert later.outcome == f"condition gone (run {run}, 2024-04-05)"

    def test_decided_items_reappear_only_in_a_current_workbook(
        self, connection: Connection
    ) -> None:
        """A decision after the run hides the item from a re-run, not from `report`."""
        run = make_run(connection)
        finish(connection, run)
        decided = make_exception(connection, run_id=run)
        set_exception(
            connection,
            decided,
            status=ExceptionStatus.RESOLVED,
            decision=Decision.WRITE_OFF,
            decided_by="ana",
            decided_at=LATER,
        )
        kind = ExceptionKind.UNDERPAID
        own = list(
            exception_rows(
                connection, scope=scope_of(connection, run), kind=kind, names=False
            )
        )
        now = list(
            exception_rows(
                connection,
                scope=scope_of(connection, run, current=True),
                kind=kind,
                names=False,
            )
        )
        assert own == []
        assert [(r.id, r.status, r.outcome) for r in now] == [
            (decided, "resolved", "write_off by ana")
        ]

    def test_new_marks_what_this_run_found_first(self, connection: Connection) -> None:
        """Items first found by an earlier run are not New."""
        earlier, run = make_run(connection), make_run(connection)
        old = make_exception(connection, run_id=earlier)
        new = make_exception(connection, run_id=run)
        rows = exception_rows(
            connection,
            scope=scope_of(connection, run),
            kind=ExceptionKind.UNDERPAID,
            names=False,
        )
        assert {r.id: r.new for r in rows} == {old: False, new: True}

    def test_rows_show_money_as_decimal_and_age_from_the_as_of_date(
        self, connection: Connection
    ) -> None:
        """Cents become exact dollars; age counts from the run's as-of date."""
        run = make_run(connection)
        item = make_exception(connection, run_id=run, amount_cents=1_005)
        set_exception(
            connection,
            item,
            variance_cents=-1_005,
            age_from_on=D(2024, 3, 1),
            codes="PR-2,CO-45",
        )
        (row,) = exception_rows(
            connection,
            scope=scope_of(connection, run),
            kind=ExceptionKind.UNDERPAID,
            names=False,
        )
        assert row.amount == Decimal("10.05")
        assert row.variance == Decimal("-10.05")
        assert row.age_days == 30
        assert row.codes == (
            "CO-45 Charge exceeds fee schedule / maximum allowable; PR-2 Coinsurance"
        )

    def test_patient_names_only_when_asked(self, connection: Connection) -> None:
        """Names and member ids come from the 835 by claim id, only with names=True."""
        run = make_run(connection)
        make_exception(connection, run_id=run, claim_id="C7")
        payment = make_payment(connection)
        make_claim_payment(
            connection,
            payment_id=payment,
            claim_id="C7",
            patient_last_name="DOE",
            patient_first_name="JANE",
            insured_identifier="M777",
        )
        scope = scope_of(connection, run)
        kind = ExceptionKind.UNDERPAID
        (hidden,) = exception_rows(connection, scope=scope, kind=kind, names=False)
        (shown,) = exception_rows(connection, scope=scope, kind=kind, names=True)
        assert hidden.patient.name is None
        assert (shown.patient.name, shown.patient.member_id) == ("DOE, JANE", "M777")


class TestFigures:
    def test_kind_figures_add_up_to_the_rows(self, connection: Connection) -> None:
        """Counts, new items and money per kind, in the order of kinds.py."""
        earlier, run = make_run(connection), make_run(connection)
        make_exception(connection, run_id=run, amount_cents=1_000)
        make_exception(connection, run_id=earlier, amount_cents=2_550)
        make_exception(
            connection, run_id=run, kind=ExceptionKind.DENIED, amount_cents=15_000
        )
        figures = kind_figures(connection, scope=scope_of(connection, run))
        assert [(f.kind, f.count, f.new, f.amount) for f in figures] == [
            (ExceptionKind.UNDERPAID, 2, 1, Decimal("35.50")),
            (ExceptionKind.DENIED, 1, 1, Decimal("150.00")),
        ]

    def test_queue_figures(self, connection: Connection) -> None:
        """Listed, overdue and due-soon refunds and recoupments, with their money."""
        run = make_run(connection)
        overdue = make_refund(
            connection, amount_cents=1_000, identified_on=D(2024, 1, 1)
        )
        soon = make_refund(connection, amount_cents=2_000, identified_on=D(2024, 2, 5))
        make_refund(connection, amount_cents=4_000, identified_on=D(2024, 3, 20))
        make_refund(connection, status=RefundStatus.CLOSED, amount_cents=8_000)
        issued = make_refund(
            connection,
            status=RefundStatus.ISSUED,
            amount_cents=16_000,
            identified_on=D(2024, 1, 1),
        )
        figures = refund_figures(connection, scope=scope_of(connection, run))
        assert (figures.listed.count, figures.listed.amount) == (4, Decimal("230.00"))
        assert (figures.overdue.count, figures.overdue.amount) == (1, Decimal("10.00"))
        assert figures.due_within[7].count == 1
        assert figures.due_within[30].amount == Decimal("20.00")
        assert {overdue, soon, issued} <= {
            r.id
            for r in refund_rows(
                connection, scope=scope_of(connection, run), names=False
            )
        }
        recoupment = make_recoupment(connection, amount_cents=900)
        connection.execute(
            update(Recoupment)
            .where(Recoupment.id == recoupment)
            .values(response_due_on=D(2024, 3, 30))
        )
        recoup = recoupment_figures(connection, scope=scope_of(connection, run))
        assert (recoup.overdue.count, recoup.overdue.amount) == (1, Decimal("9.00"))
        (row,) = recoupment_rows(
            connection, scope=scope_of(connection, run), names=False
        )
        assert row.days_left == -1


def _refund_cases() -> list[tuple[RefundStatus, int, int | None]]:
    statuses = [RefundStatus.QUEUED, RefundStatus.APPROVED, RefundStatus.ISSUED]
    due = [-40, -1, 0, 1, 7, 8, 30, 31]
    suspended: list[int | None] = [None, -1, 0, 20]
    return list(itertools.product(statuses, due, suspended))


class TestDeadlineRulesAgree:
    def test_refund_sql_and_python_agree(self, connection: Connection) -> None:
        """For every status, due date and suspension, SQL and Python say the same."""
        run = make_run(connection)
        expected: dict[int, int | None] = {}
        for status, due, suspended in _refund_cases():
            refund = make_refund(connection, status=status)
            until = (
                AS_OF + dt.timedelta(days=suspended) if suspended is not None else None
            )
            connection.execute(
                update(Refund)
                .where(Refund.id == refund)
                .values(due_on=AS_OF + dt.timedelta(days=due), suspended_until=until)
            )
            expected[refund] = refund_days_left(
                status=status,
                due_on=AS_OF + dt.timedelta(days=due),
                suspended_until=until,
                as_of=AS_OF,
            )
        figures = refund_figures(connection, scope=scope_of(connection, run))
        known = [d for d in expected.values() if d is not None]
        assert figures.overdue.count == sum(d < 0 for d in known)
        for days in HORIZONS:
            assert figures.due_within[days].count == sum(0 <= d <= days for d in known)
        rows = {
            r.id: r.days_left
            for r in refund_rows(
                connection, scope=scope_of(connection, run), names=False
            )
        }
        assert rows == expected

    def test_recoupment_sql_and_python_agree(self, connection: Connection) -> None:
        """Every recoupment status against a passed and a coming deadline."""
        run = make_run(connection)
        expected: list[int | None] = []
        for status, due in itertools.product(
            [s for s in RecoupmentStatus if s != RecoupmentStatus.CLOSED],
            [-3, 0, 5, None],
        ):
            recoupment = make_recoupment(connection, status=status)
            response = AS_OF + dt.timedelta(days=due) if due is not None else None
            connection.execute(
                update(Recoupment)
                .where(Recoupment.id == recoupment)
                .values(response_due_on=response)
            )
            expected.append(
                recoupment_days_left(
                    status=status, response_due_on=response, as_of=AS_OF
                )
            )
        figures = recoupment_figures(connection, scope=scope_of(connection, run))
        known = [d for d in expected if d is not None]
        assert figures.overdue.count == sum(d < 0 for d in known) == 3
        assert figures.due_within[7].count == sum(0 <= d <= 7 for d in known) == 6
        listed = select(Recoupment.id).where(
            Recoupment.status != RecoupmentStatus.CLOSED
        )
        assert figures.listed.count == len(connection.execute(listed).all())
