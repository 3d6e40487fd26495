"""BAI2 bank files: credit details as deposits, CCD+ traces, problems by line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from bai2 import bai2

from reconcile.demo.bai2_writer import (
    BaiAccount,
    BaiDetail,
    BaiFile,
    BaiGroup,
    bai2_text,
    ccd_addenda,
    write_bai2,
)
from reconcile.ingest import FileRejected, Problem
from reconcile.ingest.practice.bai2_deposits import read_bai2, reassociation_trace
from reconcile.ingest.practice.bai2_records import looks_like_bai2, parse_bai2
from reconcile.ingest.tabular.problems import ProblemLog

AS_OF = dt.date(2024, 3, 1)
ACCOUNT = "4411223344"


def bank_file(*details: BaiDetail, **group: object) -> BaiFile:
    return BaiFile(
        sender="121000248",
        receiver="PRACTICE1",
        created_at=dt.datetime(2024, 3, 2, 6, 0, tzinfo=dt.UTC),
        groups=[
            BaiGroup(
                as_of=AS_OF,
                accounts=[BaiAccount(number=ACCOUNT, details=details)],
                **group,  # type: ignore[arg-type]
            )
        ],
    )


def eft(amount: int, reference: str, trace: str = "EFT1", payer: str = "1066033492"):
    return BaiDetail(
        amount_cents=amount,
        bank_reference=reference,
        text=["ACH CREDIT HCCLAIMPMT", ccd_addenda(trace=trace, originator=payer)],
    )


def read(path: Path) -> tuple[list[tuple[object, ...]], list[Problem], list[Problem]]:
    log = ProblemLog()
    warnings: list[Problem] = []
    rows = list(read_bai2(path=path, log=log, warnings=warnings))
    return rows, log.problems, warnings


def edit(tmp_path: Path, bai: BaiFile, line: int, text: str | None) -> Path:
    """Write the file with one line (1-based) replaced, or removed when None."""
    lines = bai2_text(bai).splitlines()
    if text is None:
        del lines[line - 1]
    else:
        lines[line - 1] = text
    path = tmp_path / "bank.bai"
    path.write_text("\n".join(lines) + "\n")
    return path


class TestDeposits:
    def test_credits_become_deposits_with_their_trace(self, tmp_path: Path) -> None:
        """Each credit detail is a deposit: id, as-of date, cents, TRN02/TRN03."""
        path = write_bai2(
            path=tmp_path / "bank.bai",
            bai=bank_file(
                eft(150_000, "BR001", "EFT0001"), eft(99, "BR002", "EFT0002")
            ),
        )
        rows, problems, warnings = read(path)
        assert problems == warnings == []
        assert rows == [
            (0, 4, f"{ACCOUNT}:20240301:BR001", "2024-03-01", 150_000, "EFT0001",
             None, ACCOUNT, "1066033492"),
            (1, 7, f"{ACCOUNT}:20240301:BR002", "2024-03-01", 99, "EFT0002",
             None, ACCOUNT, "1066033492"),
        ]  # fmt: skip

    def test_debits_are_not_deposits_and_prenotes_warn(self, tmp_path: Path) -> None:
        """Debits are ignored; a zero credit (ACH prenote) is skipped with a warning."""
        path = write_bai2(
            path=tmp_path / "bank.bai",
            bai=bank_file(
                BaiDetail(amount_cents=2_500, type_code="475", bank_reference="CHK1"),
                BaiDetail(amount_cents=0, bank_reference="PRENOTE"),
                BaiDetail(amount_cents=7_000, type_code="175", bank_reference="LB9"),
            ),
        )
        rows, _problems, warnings = read(path)
        assert [r[2] for r in rows] == [f"{ACCOUNT}:20240301:LB9"]
        assert rows[0][5] is None  # no addenda, no trace
        assert [(w.line, w.reason) for w in warnings] == [
            (5, "a zero credit (an ACH prenote?) is not a deposit; skipped")
        ]

    def test_ids_without_bank_reference(self, tmp_path: Path) -> None:
        """Without a bank reference the customer reference, else a day ordinal."""
        path = write_bai2(
            path=tmp_path / "bank.bai",
            bai=bank_file(
                BaiDetail(amount_cents=100, customer_reference="CUST7"),
                BaiDetail(amount_cents=100),
                BaiDetail(amount_cents=100),
            ),
        )
        rows, _, _ = read(path)
        assert [r[2] for r in rows] == [
            f"{ACCOUNT}:20240301:CCUST7",
            f"{ACCOUNT}:20240301:165:100:1",
            f"{ACCOUNT}:20240301:165:100:2",
        ]

    def test_long_ids_are_hashed_stably(self, tmp_path: Path) -> None:
        """An id longer than 64 characters is a stable hash of itself."""
        path = write_bai2(path=tmp_path / "bank.bai", bai=bank_file(eft(100, "R" * 60)))
        first, _, _ = read(path)
        again, _, _ = read(path)
        assert first[0][2] == again[0][2]
        assert first[0][2].startswith("bai2:")
        assert len(first[0][2]) == 64

    def test_trace_cut_across_continuation_records(self, tmp_path: Path) -> None:
        """A trace split at the end of a record is joined back without a gap."""
        trace = "EFT" + "7" * 45
        detail = BaiDetail(
            amount_cents=500,
            bank_reference="BR9",
            text=["X" * 60 + ccd_addenda(trace=trace, originator="1999999999")],
        )
        path = write_bai2(path=tmp_path / "bank.bai", bai=bank_file(detail))
        assert "88,XXXX" in path.read_text()  # really split over two records
        rows, problems, warnings = read(path)
        assert rows[0][5] == trace
        assert rows[0][8] == "1999999999"
        assert problems == warnings == []

    def test_the_library_reads_our_files_with_integrity_checks(
        self, tmp_path: Path
    ) -> None:
        """The bai2 library parses written files and their totals check out."""
        bai = bank_file(eft(150_000, "BR001"), eft(250, "BR002"))
        parsed = bai2.parse_from_string(bai2_text(bai), check_integrity=True)
        account = parsed.children[0].children[0]
        assert [d.amount for d in account.children] == [150_000, 250]
        assert parsed.trailer.file_control_total == 150_250


class TestReassociationTrace:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("TRN*1*12345*1512345678\\", ("12345", "1512345678", None)),
            ("ACH HCCLAIMPMT TRN*1*EFT 9*1512345678*X~", ("EFT 9", "1512345678", None)),
            ("TRN*1*12345*1512345678 PAYMENT", ("12345", "1512345678", None)),
            ("no addenda here", (None, None, None)),
            (
                "TRN*1*12345\\",
                (
                    "12345",
                    None,
                    "the TRN originator (TRN03) is not 10 letters or digits",
                ),
            ),
            (
                "TRN*1*12345*151234\\",
                (
                    "12345",
                    None,
                    "the TRN originator (TRN03) is not 10 letters or digits",
                ),
            ),
            (
                "TRN*1*" + "9" * 51 + "*1512345678\\",
                (None, None, "the TRN trace number is longer than 50"),
            ),
        ],
    )
    def test_cases(
        self, text: str, expected: tuple[str | None, str | None, str | None]
    ) -> None:
        """TRN02 and TRN03 are found in addenda text, or a warning says why not."""
        assert reassociation_trace(text) == expected


class TestProblems:
    def test_control_total_names_the_trailer(self, tmp_path: Path) -> None:
        """A wrong account control total names the account trailer's line."""
        bai = bank_file(eft(150_000, "BR001"))
        path = edit(tmp_path, bai, 7, "49,150001,5/")
        with pytest.raises(FileRejected) as error:
            read(path)
        [problem] = error.value.problems
        assert problem.line == 7
        assert "control totals do not add up" in problem.reason

    def test_missing_trailer(self, tmp_path: Path) -> None:
        """A missing group trailer is a structure problem at the record found."""
        path = edit(tmp_path, bank_file(eft(100, "BR001")), 8, None)
        with pytest.raises(FileRejected) as error:
            read(path)
        assert error.value.problems[0].line == 8
        assert "expected group trailer (98)" in error.value.problems[0].reason.lower()

    def test_unreadable_amount(self, tmp_path: Path) -> None:
        """A field the library cannot read names its record type and line."""
        path = edit(tmp_path, bank_file(eft(100, "BR001")), 4, "16,165,1x0,Z,BR001,/")
        with pytest.raises(FileRejected) as error:
            read(path)
        assert error.value.problems[0].line == 4
        assert "transaction detail record has a field" in error.value.problems[0].reason

    def test_bank_specific_type_code(self, tmp_path: Path) -> None:
        """A bank-specific type code is refused with advice."""
        path = edit(tmp_path, bank_file(eft(100, "BR001")), 4, "16,950,100,Z,BR001,/")
        with pytest.raises(FileRejected, match="bank-specific BAI2 type codes"):
            read(path)

    def test_lines_that_are_not_records(self, tmp_path: Path) -> None:
        """Every line that is not a BAI2 record is listed."""
        path = edit(tmp_path, bank_file(eft(100, "BR001")), 5, "hello")
        with pytest.raises(FileRejected) as error:
            read(path)
        assert [p.line for p in error.value.problems] == [5]

    def test_records_after_the_file_trailer(self, tmp_path: Path) -> None:
        """Nothing may follow the file trailer."""
        path = tmp_path / "bank.bai"
        path.write_text(bai2_text(bank_file(eft(100, "BR001"))) + "03,1,USD/\n")
        with pytest.raises(FileRejected, match="follow the file trailer"):
            read(path)

    def test_foreign_currency_and_test_groups_are_problems(
        self, tmp_path: Path
    ) -> None:
        """Only USD accounts in update or correction groups are deposits."""
        bai = BaiFile(
            sender="B",
            receiver="P",
            created_at=dt.datetime(2024, 3, 2, 6, 0, tzinfo=dt.UTC),
            groups=[
                BaiGroup(
                    as_of=AS_OF,
                    status="4",
                    accounts=[
                        BaiAccount(number="1", currency="CAD", details=[eft(5, "R")])
                    ],
                )
            ],
        )
        _, problems, _ = read(write_bai2(path=tmp_path / "b.bai", bai=bai))
        assert [(p.line, p.reason.split(":")[0]) for p in problems] == [
            (2, "the group's status is test only"),
            (3, "the account is in CAD; only USD accounts are read"),
        ]


class TestDetection:
    def test_bai2_is_found_by_content(self, tmp_path: Path) -> None:
        """A file starting with a 01 record is BAI2 whatever its name."""
        bank = write_bai2(path=tmp_path / "x.csv", bai=bank_file(eft(1, "R")))
        csv_file = tmp_path / "y.bai"
        csv_file.write_text("deposit_id,deposit_date,amount\n")
        assert looks_like_bai2(bank)
        assert not looks_like_bai2(csv_file)


def test_a_nul_byte_rejects_the_file_at_its_line(tmp_path: Path) -> None:
    """No database text column holds a NUL: the file is refused, naming the line."""
    path = tmp_path / "nul.bai"
    path.write_bytes(
        b"01,BANK,PRACTICE,240301,0600,1,,,2/\n02,PRACTICE,BANK,1\x00,240301/\n"
    )
    with pytest.raises(FileRejected) as caught:
        parse_bai2(path=path)
    (problem,) = caught.value.problems
    assert problem.line == 2
    assert "NUL" in problem.reason


def test_a_problem_quoting_control_characters_shows_them_escaped() -> None:
    """A reason quoting the file never carries a NUL or a terminal escape."""
    problem = Problem("type code '\x00\x1b[2J' is unknown", line=3)
    assert problem.reason == "type code '\\x00\\x1b[2J' is unknown"
    assert Problem("tab\tkept").reason == "tab\tkept"
