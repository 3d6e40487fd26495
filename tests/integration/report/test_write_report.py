"""A run writes its workbook after committing; `report` rewrites it later."""

from __future__ import annotations

import datetime as dt
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select, update

from reconcile import pipeline
from reconcile.categories import Decision, ExceptionKind, ExceptionStatus
from reconcile.db.tables import ReconException, ReconRun
from reconcile.kinds import KINDS
from reconcile.report import (
    ReportWriteError,
    RunNotFinishedError,
    UnknownRunError,
    write_report,
)
from reconcile.report.columns import KIND_HEADERS, exception_sheet
from reconcile.report.content import sheet_title_of
from reconcile.settings import ReportSettings, Settings
from tests.factories import (
    make_claim_payment,
    make_payment,
    make_run,
    make_scenario,
)
from tests.helpers import CLOCK, MARCH, run

LATER = dt.datetime(2024, 4, 3, 14, tzinfo=dt.UTC)


def in_folder(folder: Path, **changes: object) -> Settings:
    """Default settings with the workbooks going to ``folder``."""
    return replace(Settings(), reports=ReportSettings(folder=str(folder), **changes))  # type: ignore[arg-type]


class TestRunWritesItsWorkbook:
    def test_path_from_config_recorded_and_private(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """The workbook lands at folder/file_name, mode 0600; run and summary say so."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
        result = run(fresh_engine, settings=in_folder(tmp_path / "new" / "books"))
        expected = (
            tmp_path
            / "new"
            / "books"
            / (f"reconcile-{result.run_id}-2024-03-01-2024-03-31.xlsx")
        )
        assert result.report_path == expected
        assert result.summary["report"] == str(expected)
        assert stat.S_IMODE(expected.stat().st_mode) == 0o600
        with fresh_engine.connect() as conn:
            recorded = conn.execute(
                select(ReconRun.report_path, ReconRun.summary, ReconRun.status).where(
                    ReconRun.id == result.run_id
                )
            ).one()
        assert recorded.report_path == str(expected)
        assert recorded.summary["report"] == str(expected)
        assert str(recorded.status) == "succeeded"
        assert [p.name for p in expected.parent.iterdir()] == [expected.name]

    def test_workbook_matches_the_run_summary(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Every kind in the summary has its sheet, with as many rows as items."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
        result = run(fresh_engine, settings=in_folder(tmp_path))
        wb = load_workbook(result.report_path)
        for kind, figures in result.summary["exceptions"].items():
            ws = wb[KINDS[ExceptionKind(kind)].title]
            assert ws.max_row - 2 == figures["count"], kind
            assert (
                sum(r[0] == "New" for r in ws.iter_rows(min_row=3, values_only=True))
                == figures["count"]
            )
        assert (
            wb["Summary"]["A1"].value
            == f"Reconciliation exceptions: run {result.run_id}"
        )

    def test_each_kind_sheet_names_its_own_amounts(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Every kind's sheet has the headers its kind's column spec gives (a
        deposit sheet says 835 amount / Deposit, not Expected / Paid)."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
        result = run(fresh_engine, settings=in_folder(tmp_path))
        wb = load_workbook(result.report_path)
        kinds = [ExceptionKind(kind) for kind in result.summary["exceptions"]]
        assert any(kind in KIND_HEADERS for kind in kinds)
        for kind in kinds:
            spec = exception_sheet(names=False, current=False, kind=kind)
            ws = wb[sheet_title_of(KINDS[kind].title)]
            assert [c.value for c in ws[2]] == [c.header for c in spec.columns], kind

    def test_second_run_marks_nothing_new(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Re-running the window lists the same items, none of them New."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
        run(fresh_engine, settings=in_folder(tmp_path))
        again = run(fresh_engine, settings=in_folder(tmp_path))
        wb = load_workbook(again.report_path)
        ws = wb["Underpaid claims"]
        assert ws.max_row == 3
        assert ws["A3"].value is None

    def test_report_path_argument_wins(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """`run --report FILE` writes exactly there."""
        target = tmp_path / "march.xlsx"
        result = run_to(fresh_engine, target)
        assert result == target
        assert load_workbook(target).sheetnames[0] == "Summary"

    def test_unwritable_folder_keeps_results_and_fails_the_run(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """The results stay committed; the run is failed with the reason."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder")
        with pytest.raises(ReportWriteError, match="cannot write the workbook to"):
            run(fresh_engine, settings=in_folder(blocker / "reports"))
        with fresh_engine.connect() as conn:
            status, error, summary = conn.execute(
                select(ReconRun.status, ReconRun.error, ReconRun.summary)
            ).one()
            found = conn.execute(
                select(func.count()).select_from(ReconException)
            ).scalar()
        assert str(status) == "failed"
        assert "cannot write the workbook" in error
        assert summary is not None
        assert found


def run_to(engine: Engine, target: Path) -> Path:
    """A run writing its workbook to ``target``."""
    with engine.begin() as conn:
        make_scenario(conn)
    result = pipeline.run(
        engine=engine,
        settings=Settings(),
        window=MARCH,
        clock=CLOCK,
        report_path=target,
    )
    assert result.report_path is not None
    return result.report_path


class TestRewrite:
    def test_current_state_after_a_decision(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """The rewritten workbook still lists a decided item, with its outcome."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
        result = run(fresh_engine, settings=in_folder(tmp_path))
        with fresh_engine.begin() as conn:
            conn.execute(
                update(ReconException)
                .where(ReconException.kind == "underpaid")
                .values(
                    status=ExceptionStatus.RESOLVED,
                    decision=Decision.WRITE_OFF,
                    decided_by="ana",
                    decided_at=LATER,
                )
            )
        path = write_report(
            engine=fresh_engine,
            settings=in_folder(tmp_path),
            run_id=result.run_id,
            written_at=LATER,
            current=True,
        )
        assert path.name == (
            f"reconcile-{result.run_id}-2024-03-01-2024-03-31-current-2024-04-03.xlsx"
        )
        assert result.report_path is not None
        assert result.report_path.exists()
        wb = load_workbook(path)
        assert "current state" in wb["Summary"]["A1"].value
        ws = wb["Underpaid claims"]
        header = [c.value for c in ws[2]]
        row = dict(zip(header, [c.value for c in ws[3]], strict=True))
        assert (row["Status"], row["Outcome"]) == ("resolved", "write_off by ana")

    def test_unknown_run(self, fresh_engine: Engine, tmp_path: Path) -> None:
        """A run id that names nothing is one sentence."""
        with pytest.raises(UnknownRunError, match="there is no run 42"):
            write_report(
                engine=fresh_engine,
                settings=in_folder(tmp_path),
                run_id=42,
                written_at=LATER,
                current=True,
            )

    def test_run_without_results(self, fresh_engine: Engine, tmp_path: Path) -> None:
        """A run that never committed has no workbook to rewrite."""
        with fresh_engine.begin() as conn:
            run_id = make_run(conn)
        with pytest.raises(RunNotFinishedError, match="never committed its results"):
            write_report(
                engine=fresh_engine,
                settings=in_folder(tmp_path),
                run_id=run_id,
                written_at=LATER,
                current=True,
            )


def member_ids(path: Path | None) -> dict[str, object]:
    """Claim ID → Member ID on every exception sheet of a workbook."""
    assert path is not None
    found: dict[str, object] = {}
    for ws in load_workbook(path, read_only=True).worksheets:
        rows = ws.iter_rows(values_only=True)
        header = next((list(r) for r in rows if r and "Exception ID" in r), None)
        if header is None:
            continue
        claim, member = header.index("Claim ID"), header.index("Member ID")
        for row in rows:
            if row[claim] is not None:
                found[str(row[claim])] = row[member]
    return found


class TestPatientNames:
    def test_names_follow_the_setting(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Names and member ids from the 835 appear only with show_patient_names."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
            payment = make_payment(
                conn, trace_number="EFT900", paid_on=dt.date(2024, 3, 4)
            )
            make_claim_payment(
                conn,
                payment_id=payment,
                claim_id="UNDER",
                paid_cents=0,
                patient_last_name="ROE",
                patient_first_name="RICHARD",
                insured_identifier="W99",
            )
        hidden = run(fresh_engine, settings=in_folder(tmp_path / "hidden"))
        shown = run(
            fresh_engine,
            settings=in_folder(tmp_path / "shown", show_patient_names=True),
        )

        def values(path: Path | None) -> set[object]:
            assert path is not None
            wb = load_workbook(path)
            return {c.value for ws in wb for row in ws.iter_rows() for c in row}

        assert not {"ROE, RICHARD", "W99"} & values(hidden.report_path)
        assert {"ROE, RICHARD", "W99"} <= values(shown.report_path)

    def test_member_id_from_the_patient_when_no_subscriber_is_named(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """The usual 835 names only the patient (NM1*QC NM109, no NM1*IL): that id is
        the Member ID; a subscriber id (NM1*IL) wins over it, and REF*1W comes last."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
            payment = make_payment(
                conn, trace_number="EFT901", paid_on=dt.date(2024, 3, 4)
            )
            for claim_id, ids in (
                ("UNDER", {"patient_identifier": "QC123"}),
                ("DENY", {"patient_identifier": "QC456", "insured_identifier": "IL9"}),
                ("GHOST", {"member_id": "REF1W7"}),
            ):
                make_claim_payment(
                    conn,
                    payment_id=payment,
                    claim_id=claim_id,
                    paid_cents=0,
                    patient_last_name="ROE",
                    patient_first_name="JANE",
                    **ids,
                )
        shown = run(
            fresh_engine,
            settings=in_folder(tmp_path / "shown", show_patient_names=True),
        )
        members = member_ids(shown.report_path)
        assert members["UNDER"] == "QC123"
        assert members["DENY"] == "IL9"
        assert members["GHOST"] == "REF1W7"
        hidden = run(fresh_engine, settings=in_folder(tmp_path / "hidden"))
        with pytest.raises(ValueError, match="Member ID"):
            member_ids(hidden.report_path)
