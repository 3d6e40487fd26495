"""Importing claims exports: first load, new versions with history, rejections."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, select

from reconcile.categories import SourceKind, SourceStatus
from reconcile.db.tables import ExpectedClaim, ExpectedClaimVersion, SourceFile
from reconcile.demo import practice_data
from reconcile.demo.tabular_writer import Sheet, write_csv, write_xlsx
from reconcile.ingest import ImportStatus
from tests.practice_factories import (
    CLAIMS_HEADER,
    claim_line,
    count_of,
    rows_of,
    run_import,
    write_lines,
)

CLAIMS = SourceKind.CLAIMS
DAY = dt.date(2024, 1, 1)


def claims_file(tmp_path: Path, name: str, *lines: str) -> Path:
    return write_lines(tmp_path / name, CLAIMS_HEADER, list(lines))


class TestFirstImport:
    def test_loads_every_claim_as_version_one(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """A first export writes version 1 of each claim and its current row."""
        path = claims_file(
            tmp_path, "a.csv", claim_line(), claim_line(claim_id="C2", expected="0")
        )
        [outcome] = run_import(fresh_engine, CLAIMS, path)
        assert outcome.status is ImportStatus.LOADED
        assert outcome.counts == {"claims": 2}
        assert outcome.skipped == 0
        assert rows_of(
            fresh_engine, ExpectedClaimVersion, "claim_id", "version", "line_number",
            "expected_cents",
        ) == [("C1", 1, 2, 8_000), ("C2", 1, 3, 0)]  # fmt: skip
        current = rows_of(
            fresh_engine, ExpectedClaim, "claim_id", "version", "billed_cents",
            "service_on", "submitted_on",
        )  # fmt: skip
        assert [(c[0], c[1], c[2]) for c in current] == [
            ("C1", 1, 10_000),
            ("C2", 1, 10_000),
        ]
        assert str(current[0][3]) == "2024-03-01"
        assert str(current[0][4]) == "2024-03-02"

    def test_same_file_again_is_already_imported(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """The same bytes a second time change nothing."""
        path = claims_file(tmp_path, "a.csv", claim_line())
        run_import(fresh_engine, CLAIMS, path)
        [again] = run_import(fresh_engine, CLAIMS, path)
        assert again.status is ImportStatus.ALREADY_IMPORTED
        assert count_of(fresh_engine, ExpectedClaimVersion) == 1

    def test_header_only_file_loads_nothing_with_a_warning(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """An export with no claims is not an error, but the outcome says so."""
        [outcome] = run_import(fresh_engine, CLAIMS, claims_file(tmp_path, "a.csv"))
        assert outcome.status is ImportStatus.LOADED
        assert outcome.counts == {"claims": 0}
        assert [w.reason for w in outcome.warnings] == ["the file holds no claims"]

    def test_more_rows_than_one_bulk_chunk(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Files larger than a bulk-write chunk load whole."""
        path = tmp_path / "big.csv"
        claims = practice_data.claims(count=12_000, seed=4, first_day=DAY)
        write_csv(path=path, source="claims", rows=claims)
        [outcome] = run_import(fresh_engine, CLAIMS, path)
        assert outcome.counts == {"claims": 12_000}
        assert count_of(fresh_engine, ExpectedClaim) == 12_000

    def test_text_is_stored_exactly_as_written(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Tabs, backslashes, a literal \\N and quoted line breaks in a value reach
        the tables as written (the stage is filled with COPY text on PostgreSQL)."""
        names = ["Tab\there", "Back\\slash", "\\N", "Two\nlines", "CR\r\nLF"]
        lines = [
            claim_line(claim_id=f"C{n}", payer_name=f'"{name}"')
            for n, name in enumerate(names)
        ]
        path = claims_file(tmp_path, "a.csv", claim_line(claim_id="X"), *lines)
        [outcome] = run_import(fresh_engine, CLAIMS, path)
        assert outcome.status is ImportStatus.LOADED
        stored = rows_of(fresh_engine, ExpectedClaim, "payer_name", "patient_account")
        assert stored == [("Aetna", "PA1"), *((name, "PA1") for name in names)]
        assert rows_of(
            fresh_engine, ExpectedClaimVersion, "claim_id", "line_number"
        ) == [("X", 2), ("C0", 3), ("C1", 4), ("C2", 5), ("C3", 6), ("C4", 8)]


class TestNewVersions:
    def test_changed_claims_get_a_version_with_history(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Changed values add version n+1 and move the current values; history stays."""
        first = claims_file(
            tmp_path, "march.csv", claim_line(), claim_line(claim_id="C2")
        )
        second = claims_file(
            tmp_path,
            "march-rerun.csv",
            claim_line(claim_id="C2"),
            claim_line(expected="85.00", expected_patient="15.00"),
            claim_line(claim_id="C3"),
        )
        run_import(fresh_engine, CLAIMS, first)
        [outcome] = run_import(fresh_engine, CLAIMS, second)
        assert outcome.counts == {"claims": 2}  # C1 changed, C3 new
        assert outcome.skipped == 1  # C2 unchanged
        with fresh_engine.connect() as conn:
            history = conn.execute(
                select(
                    ExpectedClaimVersion.version,
                    SourceFile.name,
                    ExpectedClaimVersion.line_number,
                    ExpectedClaimVersion.expected_cents,
                )
                .join(SourceFile, SourceFile.id == ExpectedClaimVersion.source_file_id)
                .where(ExpectedClaimVersion.claim_id == "C1")
                .order_by(ExpectedClaimVersion.version)
            ).all()
            current = conn.execute(
                select(
                    ExpectedClaim.version,
                    ExpectedClaim.expected_cents,
                    ExpectedClaim.expected_patient_cents,
                    ExpectedClaimVersion.line_number,
                )
                .join(
                    ExpectedClaimVersion,
                    ExpectedClaimVersion.id == ExpectedClaim.version_id,
                )
                .where(ExpectedClaim.claim_id == "C1")
            ).one()
        assert [tuple(h) for h in history] == [
            (1, "march.csv", 2, 8_000),
            (2, "march-rerun.csv", 3, 8_500),
        ]
        assert tuple(current) == (2, 8_500, 1_500, 3)
        assert rows_of(fresh_engine, ExpectedClaim, "claim_id", "version") == [
            ("C1", 2),
            ("C2", 1),
            ("C3", 1),
        ]

    def test_versions_keep_counting(self, fresh_engine: Engine, tmp_path: Path) -> None:
        """A third export with another change is version 3."""
        for number, expected in enumerate(("80.00", "81.00", "82.00")):
            path = claims_file(
                tmp_path, f"e{number}.csv", claim_line(expected=expected)
            )
            run_import(fresh_engine, CLAIMS, path)
        assert rows_of(fresh_engine, ExpectedClaim, "version", "expected_cents") == [
            (3, 8_200)
        ]

    def test_an_emptied_optional_value_is_a_change(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Empty and absent compare as values: 20.00 → empty is a new version."""
        run_import(fresh_engine, CLAIMS, claims_file(tmp_path, "a.csv", claim_line()))
        emptied = claims_file(tmp_path, "b.csv", claim_line(expected_patient=""))
        [changed] = run_import(fresh_engine, CLAIMS, emptied)
        still_empty = claims_file(
            tmp_path, "c.csv", "", claim_line(expected_patient="")
        )
        [unchanged] = run_import(fresh_engine, CLAIMS, still_empty)
        assert (changed.counts, changed.skipped) == ({"claims": 1}, 0)
        assert (unchanged.counts, unchanged.skipped) == ({"claims": 0}, 1)
        assert rows_of(fresh_engine, ExpectedClaim, "expected_patient_cents") == [
            (None,)
        ]

    def test_a_reordered_export_changes_nothing(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """The same claims in another order (other bytes) are all skipped."""
        lines = [claim_line(claim_id=f"C{n}") for n in range(5)]
        run_import(fresh_engine, CLAIMS, claims_file(tmp_path, "a.csv", *lines))
        [outcome] = run_import(
            fresh_engine, CLAIMS, claims_file(tmp_path, "b.csv", *reversed(lines))
        )
        assert outcome.status is ImportStatus.LOADED
        assert (outcome.counts, outcome.skipped) == ({"claims": 0}, 5)
        assert count_of(fresh_engine, ExpectedClaimVersion) == 5


class TestRejections:
    def test_claim_twice_in_a_file(self, fresh_engine: Engine, tmp_path: Path) -> None:
        """A claim repeated inside a file rejects the file, naming both lines."""
        path = claims_file(
            tmp_path,
            "a.csv",
            claim_line(),
            claim_line(claim_id="C2"),
            claim_line(),
            claim_line(),
        )
        [outcome] = run_import(fresh_engine, CLAIMS, path)
        assert outcome.status is ImportStatus.REJECTED
        assert [str(p) for p in outcome.reason] == [
            "line 4: claim_id: repeats the claim_id of line 2; each claim_id may "
            "appear once in a file",
            "line 5: claim_id: repeats the claim_id of line 2; each claim_id may "
            "appear once in a file",
        ]
        assert count_of(fresh_engine, ExpectedClaimVersion) == 0

    def test_a_rejected_newer_export_changes_nothing(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """One bad row keeps every good change of the file out too."""
        run_import(fresh_engine, CLAIMS, claims_file(tmp_path, "a.csv", claim_line()))
        bad = claims_file(
            tmp_path,
            "b.csv",
            claim_line(expected="90.00"),
            claim_line(claim_id="C9"),
            claim_line(claim_id="C10", billed="1.001"),
        )
        [outcome] = run_import(fresh_engine, CLAIMS, bad)
        assert outcome.status is ImportStatus.REJECTED
        assert rows_of(fresh_engine, ExpectedClaim, "claim_id", "expected_cents") == [
            ("C1", 8_000)
        ]
        assert count_of(fresh_engine, ExpectedClaimVersion) == 1
        with fresh_engine.connect() as conn:
            statuses = conn.execute(
                select(SourceFile.name, SourceFile.status).order_by(SourceFile.id)
            ).all()
        assert [tuple(s) for s in statuses] == [
            ("a.csv", SourceStatus.LOADED),
            ("b.csv", SourceStatus.REJECTED),
        ]

    def test_bad_and_good_files_in_one_command(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """A rejected file does not stop the next one from loading."""
        bad = claims_file(tmp_path, "a.csv", claim_line(service_date="yesterday"))
        good = claims_file(tmp_path, "b.csv", claim_line(claim_id="C7"))
        outcomes = run_import(fresh_engine, CLAIMS, bad, good)
        assert [o.status for o in outcomes] == [
            ImportStatus.REJECTED,
            ImportStatus.LOADED,
        ]
        assert rows_of(fresh_engine, ExpectedClaim, "claim_id") == [("C7",)]


class TestFormatsAndCheck:
    def test_xlsx_sheet(self, fresh_engine: Engine, tmp_path: Path) -> None:
        """A workbook's named sheet loads like a CSV export."""
        claims = list(practice_data.claims(count=30, seed=9, first_day=DAY))
        path = write_xlsx(
            path=tmp_path / "claims.xlsx",
            sheets=[
                Sheet("Notes", "deposits", []),
                Sheet("Claims", "claims", claims),
            ],
        )
        [outcome] = run_import(fresh_engine, CLAIMS, path, sheet="Claims")
        assert outcome.counts == {"claims": 30}
        assert rows_of(fresh_engine, ExpectedClaim, "claim_id", "billed_cents")[0] == (
            claims[0]["claim_id"],
            claims[0]["billed_amount"],
        )

    def test_check_validates_without_writing(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """--check reports what would load and writes nothing, not even the file."""
        good = claims_file(tmp_path, "a.csv", claim_line(), claim_line(claim_id="C2"))
        bad = claims_file(tmp_path, "b.csv", claim_line(), claim_line())
        outcomes = run_import(fresh_engine, CLAIMS, good, bad, check_only=True)
        assert [(o.status, o.counts) for o in outcomes] == [
            (ImportStatus.VALID, {"claims": 2}),
            (ImportStatus.REJECTED, {}),
        ]
        assert outcomes[1].reason[0].line == 3
        assert count_of(fresh_engine, SourceFile) == 0
