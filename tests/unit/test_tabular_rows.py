"""Row validation with the practice specs: every rule, its place and its reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.ingest import MAX_PROBLEMS, FileRejected, Problem
from reconcile.ingest.practice.specs import (
    CLAIMS,
    DEPOSITS,
    LEDGER,
    PATIENT_PAYMENTS,
    npi_problem,
)
from reconcile.ingest.tabular import ProblemLog, TableSpec, bind_header, open_table
from reconcile.ingest.tabular.rows import CHUNK_ROWS, stage_chunks, stage_rows
from reconcile.settings import AmountFormat, SourceSettings
from tests.practice_factories import CLAIMS_HEADER, claim_line, write_lines

LEDGER_HEADER = (
    "entry_id,posted_on,claim_id,patient_account,payer_id,kind,amount,reference"
)


def validate(
    path: Path, spec: TableSpec, settings: SourceSettings | None = None
) -> tuple[list[tuple[object, ...]], list[Problem]]:
    """Stage a file's rows in memory; return the good rows and the problems."""
    log = ProblemLog()
    with open_table(path=path, sheet=None) as table:
        columns = bind_header(
            spec=spec, settings=settings or SourceSettings(), table=table
        )
        rows = list(stage_rows(spec=spec, columns=columns, table=table, log=log))
    return rows, log.problems


def places(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems]


class TestHeader:
    def test_missing_required_columns_are_all_listed(self, tmp_path: Path) -> None:
        """Every missing required column is a problem on the header line."""
        path = write_lines(tmp_path / "c.csv", "claim_id,payer_id,billed_amount", [])
        with pytest.raises(FileRejected) as error:
            validate(path, CLAIMS)
        assert [p.column for p in error.value.problems] == [
            "service_date",
            "expected_amount",
            "submitted_on",
        ]
        assert all(p.line == 1 for p in error.value.problems)

    def test_mapped_header_is_named_as_the_file_writes_it(self, tmp_path: Path) -> None:
        """A mapped column that is missing names the file's header and its column."""
        path = write_lines(tmp_path / "c.csv", "claim_id", [])
        settings = SourceSettings(columns={"payer_id": "Carrier Code"})
        with pytest.raises(FileRejected) as error:
            validate(path, CLAIMS, settings)
        problem = next(p for p in error.value.problems if p.column == "Carrier Code")
        assert "(the payer_id column)" in problem.reason
        assert "[sources.claims.columns]" in problem.reason

    def test_wrong_file_gets_a_hint(self, tmp_path: Path) -> None:
        """A header with none of the columns asks whether it is the right file."""
        path = write_lines(tmp_path / "c.csv", "a;b;c", [])
        with pytest.raises(FileRejected) as error:
            validate(path, DEPOSITS)
        assert (
            "none of the deposits columns were found" in error.value.problems[0].reason
        )

    def test_headers_match_ignoring_case_and_spaces(self, tmp_path: Path) -> None:
        """'Deposit  ID ' matches a map entry 'deposit id'."""
        path = write_lines(
            tmp_path / "d.csv",
            "Deposit  ID ,DATE,Amount",
            ["D1,2024-03-01,10.00"],
        )
        settings = SourceSettings(
            columns={"deposit_id": "deposit id", "deposit_date": "Date"}
        )
        rows, problems = validate(path, DEPOSITS, settings)
        assert problems == []
        assert rows == [(0, 2, "D1", "2024-03-01", 1000, None, None, None)]

    def test_a_wanted_header_twice(self, tmp_path: Path) -> None:
        """Two columns with the same wanted header are ambiguous."""
        path = write_lines(
            tmp_path / "d.csv", "deposit_id,deposit_date,amount,Amount", []
        )
        with pytest.raises(FileRejected, match="appears more than once"):
            validate(path, DEPOSITS)


class TestClaimRows:
    def test_a_good_file_stages_every_row(self, tmp_path: Path) -> None:
        """Good rows come out as (seq, line, values…) with cents and ISO dates."""
        path = write_lines(
            tmp_path / "c.csv",
            CLAIMS_HEADER,
            [
                claim_line(),
                claim_line(claim_id="C2", expected_patient="", provider_npi=""),
            ],
        )
        rows, problems = validate(path, CLAIMS)
        assert problems == []
        assert rows[0] == (
            0, 2, "C1", "AETNA", "Aetna", "PA1", "1234567893", "2024-03-01",
            10_000, 8_000, 2_000, "2024-03-02",
        )  # fmt: skip
        assert rows[1][1:3] == (3, "C2")
        assert rows[1][6] is None
        assert rows[1][10] is None

    @pytest.mark.parametrize(
        ("changes", "expected"),
        [
            ({"service_date": "2024-02-30"}, "line 2: service_date: is not a date"),
            ({"billed": "12.345"}, "line 2: billed_amount: has more than 2 decimals"),
            ({"billed": "ten"}, "line 2: billed_amount: is not an amount"),
            ({"expected": "-1.00"}, "line 2: expected_amount: must not be negative"),
            (
                {"expected_patient": "-0.01"},
                "line 2: expected_patient_amount: must not be negative",
            ),
            ({"payer_id": ""}, "line 2: payer_id: is empty; a value is required"),
            ({"claim_id": "X" * 39}, "line 2: claim_id: is longer than 38 characters"),
            ({"provider_npi": "123"}, "line 2: provider_npi: is not an NPI"),
            (
                {"provider_npi": "1234567890"},
                "line 2: provider_npi: is not an NPI: its check digit is wrong",
            ),
            (
                {"submitted_on": "2024-02-28"},
                "line 2: submitted_on: is before the service date",
            ),
        ],
    )
    def test_each_rule(
        self, tmp_path: Path, changes: dict[str, str], expected: str
    ) -> None:
        """Each content rule is one problem at its line and column."""
        path = write_lines(tmp_path / "c.csv", CLAIMS_HEADER, [claim_line(**changes)])
        rows, problems = validate(path, CLAIMS)
        assert rows == []
        assert len(problems) == 1
        assert str(problems[0]).startswith(expected)

    def test_zero_amounts_are_allowed(self, tmp_path: Path) -> None:
        """A no-charge visit or an unpaid service may have zero amounts."""
        path = write_lines(
            tmp_path / "c.csv", CLAIMS_HEADER, [claim_line(billed="0", expected="0.00")]
        )
        rows, problems = validate(path, CLAIMS)
        assert problems == []
        assert rows[0][8:10] == (0, 0)

    def test_every_problem_of_a_row_and_of_the_file(self, tmp_path: Path) -> None:
        """All problems are collected, in line order, not just the first."""
        path = write_lines(
            tmp_path / "c.csv",
            CLAIMS_HEADER,
            [
                claim_line(billed="x", expected="-1"),
                claim_line(claim_id="C2"),
                claim_line(claim_id="C3", service_date="03/01/2024"),
            ],
        )
        rows, problems = validate(path, CLAIMS)
        assert [r[2] for r in rows] == ["C2"]
        assert places(problems) == [
            "line 2: billed_amount: is not an amount",
            "line 2: expected_amount: must not be negative",
            "line 4: service_date: is not a date like 2024-03-31 (%Y-%m-%d)",
        ]

    def test_field_count_must_match_the_header(self, tmp_path: Path) -> None:
        """A row with extra or missing fields points at a misplaced delimiter."""
        path = write_lines(
            tmp_path / "c.csv",
            CLAIMS_HEADER,
            [claim_line() + ",5", claim_line(claim_id="C2").rsplit(",", 1)[0],
             claim_line(claim_id="C3") + ",,"],
        )  # fmt: skip
        rows, problems = validate(path, CLAIMS)
        assert [r[2] for r in rows] == ["C3"]  # trailing empty fields are fine
        assert [p.line for p in problems] == [2, 3]
        assert "has 11 fields but the header has 10" in problems[0].reason
        assert "has 9 fields" in problems[1].reason

    def test_blank_rows_are_skipped(self, tmp_path: Path) -> None:
        """Blank lines and rows of empty fields are not rows."""
        path = write_lines(
            tmp_path / "c.csv", CLAIMS_HEADER, ["", ",,,,,,,,,", claim_line()]
        )
        rows, problems = validate(path, CLAIMS)
        assert problems == []
        assert [r[1] for r in rows] == [4]

    def test_reading_stops_at_the_cap(self, tmp_path: Path) -> None:
        """After MAX_PROBLEMS problems the rest of the file is not read."""
        lines = [claim_line(claim_id=f"C{n}", billed="x") for n in range(5_000)]
        path = write_lines(tmp_path / "c.csv", CLAIMS_HEADER, lines)
        log = ProblemLog()
        with open_table(path=path, sheet=None) as table:
            columns = bind_header(spec=CLAIMS, settings=SourceSettings(), table=table)
            list(stage_rows(spec=CLAIMS, columns=columns, table=table, log=log))
            # Reading stopped with the first chunk: the next line is still unread.
            assert next(table.rows)[0] == CHUNK_ROWS + 2
        assert len(log.problems) == MAX_PROBLEMS
        with pytest.raises(FileRejected) as error:
            log.raise_if_any()
        assert len(error.value.problems) == MAX_PROBLEMS + 1
        assert "stopped after 100 problems" in error.value.problems[-1].reason

    def test_a_bad_row_deep_in_a_chunk_keeps_its_neighbours(
        self, tmp_path: Path
    ) -> None:
        """Only the bad row is refused; the good rows of its chunk still stage."""
        bad = CHUNK_ROWS + CHUNK_ROWS // 2  # in the middle of the second chunk
        lines = [claim_line(claim_id=f"C{n}") for n in range(3 * CHUNK_ROWS)]
        lines[bad] = claim_line(claim_id=f"C{bad}", expected="-5")
        rows, problems = validate(
            write_lines(tmp_path / "c.csv", CLAIMS_HEADER, lines), CLAIMS
        )
        assert [str(p) for p in problems] == [
            f"line {bad + 2}: expected_amount: must not be negative"
        ]
        assert len(rows) == 3 * CHUNK_ROWS - 1
        assert [r[0] for r in rows] == list(range(3 * CHUNK_ROWS - 1))
        assert rows[bad][1:3] == (bad + 3, f"C{bad + 1}")

    def test_chunks_hold_the_rows_column_wise(self, tmp_path: Path) -> None:
        """stage_chunks gives stage_rows' good rows (without seq) column by column,
        a chunk at a time, including the good rows of a chunk with a bad one."""
        lines = [claim_line(claim_id=f"C{n}") for n in range(CHUNK_ROWS + 10)]
        lines[3] = claim_line(claim_id="C3", billed="x")
        path = write_lines(tmp_path / "c.csv", CLAIMS_HEADER, lines)
        rows, _ = validate(path, CLAIMS)
        with open_table(path=path, sheet=None) as table:
            columns = bind_header(spec=CLAIMS, settings=SourceSettings(), table=table)
            log = ProblemLog()
            chunks = list(
                stage_chunks(spec=CLAIMS, columns=columns, table=table, log=log)
            )
        assert [len(chunk) for chunk in chunks] == [1 + len(CLAIMS.columns)] * 2
        assert [len(chunk[0]) for chunk in chunks] == [CHUNK_ROWS - 1, 10]
        staged = [row for chunk in chunks for row in zip(*chunk, strict=True)]
        assert staged == [row[1:] for row in rows]
        assert [str(p) for p in log.problems] == [
            "line 5: billed_amount: is not an amount"
        ]

    def test_mapped_formats(self, tmp_path: Path) -> None:
        """A column map with US dates and accounting amounts reads its own file."""
        settings = SourceSettings(
            columns={"claim_id": "Claim #", "billed_amount": "Charges"},
            date_format="%m/%d/%Y",
            amount_format=AmountFormat.ACCOUNTING,
        )
        header = CLAIMS_HEADER.replace("claim_id", "Claim #").replace(
            "billed_amount", "Charges"
        )
        line = claim_line(
            service_date="03/01/2024", submitted_on="03/02/2024", billed='"$1,000.00"',
            expected="(0.00)",
        )  # fmt: skip
        rows, problems = validate(
            write_lines(tmp_path / "c.csv", header, [line]), CLAIMS, settings
        )
        assert problems == []
        assert rows[0][7:12] == ("2024-03-01", 100_000, 0, 2_000, "2024-03-02")


class TestOtherSources:
    def test_deposit_amount_must_be_positive(self, tmp_path: Path) -> None:
        """A deposit is money in: zero or negative is an error."""
        path = write_lines(
            tmp_path / "d.csv",
            "deposit_id,deposit_date,amount",
            ["D1,2024-03-01,0", "D2,2024-03-01,-5", "D3,2024-03-01,5"],
        )
        rows, problems = validate(path, DEPOSITS)
        assert [r[2] for r in rows] == ["D3"]
        assert [p.line for p in problems] == [2, 3]
        assert problems[0].reason == "must be more than zero: a deposit is money in"

    def test_patient_payment_claim_is_optional(self, tmp_path: Path) -> None:
        """A patient payment needs an account, not a claim."""
        path = write_lines(
            tmp_path / "p.csv",
            "payment_id,received_on,patient_account,claim_id,amount",
            ["P1,2024-03-01,PA1,,25.00", "P2,2024-03-01,,C1,25.00"],
        )
        rows, problems = validate(path, PATIENT_PAYMENTS)
        assert [r[2] for r in rows] == ["P1"]
        assert places(problems) == [
            "line 3: patient_account: is empty; a value is required"
        ]

    @pytest.mark.parametrize(
        ("line", "expected"),
        [
            ("E,2024-03-01,C1,PA1,MCR,insurance_payment,10.00,T", None),
            ("E,2024-03-01,C1,PA1,MCR,Insurance Payment,0,T", None),
            ("E,2024-03-01,C1,PA1,,patient_payment,10.00,", None),
            ("E,2024-03-01,C1,PA1,,adjustment,-10.00,", None),
            ("E,2024-03-01,C1,PA1,,adjustment,10.00,", None),
            ("E,2024-03-01,C1,PA1,,refund,-10.00,", None),
            ("E,2024-03-01,C1,PA1,MCR,recoupment,-10.00,", None),
            ("E,2024-03-01,C1,PA1,MCR,insurance_payment,-10.00,T", None),
            (
                "E,2024-03-01,C1,PA1,,patient_payment,-1,",
                "amount: must not be negative: patient_payment is money in",
            ),
            (
                "E,2024-03-01,C1,PA1,,refund,10.00,",
                "amount: must be negative: refund is money out",
            ),
            (
                "E,2024-03-01,C1,PA1,MCR,recoupment,0,",
                "amount: must be negative: recoupment is money out",
            ),
            (
                "E,2024-03-01,C1,PA1,,insurance_payment,10.00,",
                "payer_id: is empty; insurance_payment needs the payer",
            ),
            (
                "E,2024-03-01,C1,PA1,MCR,patient_payment,10.00,",
                "payer_id: must be empty for patient money",
            ),
            ("E,2024-03-01,C1,PA1,MCR,payment,10.00,", "kind: is not a ledger kind"),
        ],
    )
    def test_ledger_rules(
        self, tmp_path: Path, line: str, expected: str | None
    ) -> None:
        """Kinds are known words; amounts are signed by kind; payers by kind."""
        path = write_lines(tmp_path / "l.csv", LEDGER_HEADER, [line])
        rows, problems = validate(path, LEDGER)
        if expected is None:
            assert problems == []
            assert len(rows) == 1
        else:
            assert rows == []
            assert len(problems) == 1
            assert str(problems[0]).startswith(f"line 2: {expected}")

    def test_ledger_kind_words_from_the_map(self, tmp_path: Path) -> None:
        """[sources.ledger.kinds] turns the system's words into canonical kinds."""
        path = write_lines(
            tmp_path / "l.csv", LEDGER_HEADER, ["E,2024-03-01,,,MCR,ins pmt,5,"]
        )
        settings = SourceSettings(kinds={"Ins Pmt": "insurance_payment"})
        rows, problems = validate(path, LEDGER, settings)
        assert problems == []
        assert rows[0][7] == "insurance_payment"


class TestNpi:
    @pytest.mark.parametrize("npi", ["1234567893", "1000000202"])
    def test_valid(self, npi: str) -> None:
        """NPIs with a right Luhn check digit pass."""
        assert npi_problem(npi) is None

    @pytest.mark.parametrize(
        "npi", ["1234567890", "123456789", "12345678901", "ABCDEFGHIJ"]
    )
    def test_invalid(self, npi: str) -> None:
        """Wrong length, letters or check digit are not NPIs."""
        assert npi_problem(npi) is not None
