"""`reconcile import claims|deposits|patient-payments|ledger` end to end."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from reconcile.cli import main
from reconcile.demo.bai2_writer import (
    BaiAccount,
    BaiDetail,
    BaiFile,
    BaiGroup,
    ccd_addenda,
    write_bai2,
)
from tests.practice_factories import CLAIMS_HEADER, claim_line, write_lines

ROOT = Path(__file__).resolve().parents[2]
OUTCOME_KEYS = {"file", "status", "reason", "counts", "skipped", "warnings"}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


class TestImportClaims:
    def test_loads_then_already_imported_exit_0(
        self, fresh_url: str, tmp_path: Path
    ) -> None:
        """A good file loads (exit 0); the same file again is already imported."""
        path = write_lines(tmp_path / "c.csv", CLAIMS_HEADER, [claim_line()])
        code, out, err = run("--database-url", fresh_url, "import", "claims", str(path))
        assert code == 0, err
        assert out.startswith("loaded")
        assert "(claims 1)" in out
        code, out, _ = run(
            "--database-url", fresh_url, "import", "claims", str(path), "--json"
        )
        assert code == 0
        [outcome] = json.loads(out)
        assert set(outcome) == OUTCOME_KEYS
        assert outcome["status"] == "already_imported"

    def test_rejected_file_exit_1_with_every_problem(
        self, fresh_url: str, tmp_path: Path
    ) -> None:
        """A bad file exits 1; --json lists each problem with its line and column."""
        path = write_lines(
            tmp_path / "c.csv",
            CLAIMS_HEADER,
            [claim_line(billed="1.001"), claim_line(claim_id="C2", service_date="x")],
        )
        code, out, err = run(
            "--database-url", fresh_url, "import", "claims", str(path), "--json"
        )
        assert code == 1
        assert "Traceback" not in out + err
        [outcome] = json.loads(out)
        assert outcome["status"] == "rejected"
        assert outcome["counts"] == {}
        assert outcome["reason"] == [
            {
                "place": "line 2: billed_amount",
                "line": 2,
                "column": "billed_amount",
                "reason": "has more than 2 decimals",
            },
            {
                "place": "line 3: service_date",
                "line": 3,
                "column": "service_date",
                "reason": "is not a date like 2024-03-31 (%Y-%m-%d)",
            },
        ]

    def test_text_output_lists_problems_under_the_file(
        self, fresh_url: str, tmp_path: Path
    ) -> None:
        """Without --json each problem is a 'file:line: column: reason' line."""
        path = write_lines(
            tmp_path / "c.csv", CLAIMS_HEADER, [claim_line(expected="-1")]
        )
        code, out, _ = run("--database-url", fresh_url, "import", "claims", str(path))
        assert code == 1
        assert f"rejected  {path}" in out
        assert f"  {path}:2: expected_amount: must not be negative\n" in out

    def test_missing_file_and_check(self, fresh_url: str, tmp_path: Path) -> None:
        """A missing path is rejected; --check validates without loading."""
        good = write_lines(tmp_path / "c.csv", CLAIMS_HEADER, [claim_line()])
        code, out, _ = run(
            "--database-url", fresh_url, "import", "claims", "--check", "--json",
            str(good), str(tmp_path / "nope.csv"),
        )  # fmt: skip
        assert code == 1
        statuses = [(o["status"], o["counts"]) for o in json.loads(out)]
        assert statuses == [("valid", {"claims": 1}), ("rejected", {})]
        code, out, _ = run(
            "--database-url", fresh_url, "import", "claims", str(good), "--json"
        )
        assert json.loads(out)[0]["status"] == "loaded"  # --check loaded nothing

    @pytest.mark.parametrize(
        "command", ["claims", "deposits", "patient-payments", "ledger"]
    )
    @pytest.mark.parametrize(
        "url",
        [
            "mysql://nobody@db/reconcile",
            "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1",
            "sqlite:///{tmp}/never.db",
        ],
    )
    def test_check_needs_no_database(
        self, command: str, url: str, tmp_path: Path
    ) -> None:
        """--check validates whatever the database URL, and creates no database."""
        path = write_lines(tmp_path / "c.csv", CLAIMS_HEADER, [claim_line()])
        code, out, err = run(
            "--database-url", url.format(tmp=tmp_path), "import", command,
            "--check", "--json", str(path),
        )  # fmt: skip
        assert "database" not in err
        [outcome] = json.loads(out)
        if command == "claims":
            assert (code, outcome["status"]) == (0, "valid")
        else:  # a claims file is not one of the others: still checked, no database
            assert (code, outcome["status"]) == (1, "rejected")
        assert not (tmp_path / "never.db").exists()

    def test_empty_folder_is_one_clear_error(
        self, fresh_url: str, tmp_path: Path
    ) -> None:
        """A folder with nothing to import says so and exits 1."""
        folder = tmp_path / "exports"
        folder.mkdir()
        code, out, err = run(
            "--database-url", fresh_url, "import", "claims", str(folder)
        )
        assert code == 1
        assert f"  {folder}: the folder is empty: it holds no file to import" in out
        assert "Traceback" not in out + err

    def test_missing_sheet_exit_1(self, fresh_url: str, tmp_path: Path) -> None:
        """--sheet naming no sheet is a rejection listing the workbook's sheets."""
        path = tmp_path / "c.xlsx"
        workbook = openpyxl.Workbook()
        workbook.active.title = "Claims"
        workbook.save(path)
        code, out, _ = run(
            "--database-url", fresh_url, "import", "claims", str(path),
            "--sheet", "Payments",
        )  # fmt: skip
        assert code == 1
        assert "the workbook has no sheet 'Payments'; its sheets are: 'Claims'" in out


class TestOtherSources:
    def test_bai2_deposits_json(self, fresh_url: str, tmp_path: Path) -> None:
        """A BAI2 file loads through `import deposits`, counted as deposits."""
        path = write_bai2(
            path=tmp_path / "bank.txt",
            bai=BaiFile(
                sender="121000248",
                receiver="PRACTICE1",
                created_at=dt.datetime(2024, 3, 2, 6, 0, tzinfo=dt.UTC),
                groups=[
                    BaiGroup(
                        as_of=dt.date(2024, 3, 1),
                        accounts=[
                            BaiAccount(
                                "4411",
                                details=[
                                    BaiDetail(
                                        amount_cents=150_000,
                                        bank_reference="BR1",
                                        text=[
                                            ccd_addenda(
                                                trace="T1", originator="1066033492"
                                            )
                                        ],
                                    )
                                ],
                            )
                        ],
                    )
                ],
            ),
        )
        code, out, err = run(
            "--database-url", fresh_url, "import", "deposits", str(path), "--json"
        )
        assert code == 0, err
        [outcome] = json.loads(out)
        assert (outcome["status"], outcome["counts"], outcome["skipped"]) == (
            "loaded",
            {"deposits": 1},
            0,
        )

    def test_example_config_ledger(self, fresh_url: str) -> None:
        """The AdvancedMD example map imports its ledger report via --config."""
        code, out, err = run(
            "--config", str(ROOT / "config" / "examples" / "advancedmd.toml"),
            "--database-url", fresh_url, "import", "ledger", "--json",
            str(ROOT / "tests" / "data" / "examples" / "advancedmd" / "ledger.csv"),
        )  # fmt: skip
        assert code == 0, err
        assert json.loads(out)[0]["counts"] == {"postings": 5}

    def test_patient_payments_folder(self, fresh_url: str, tmp_path: Path) -> None:
        """A folder imports every file in it."""
        folder = tmp_path / "in"
        folder.mkdir()
        header = "payment_id,received_on,patient_account,amount"
        write_lines(folder / "a.csv", header, ["P1,2024-03-01,PA1,5.00"])
        write_lines(folder / "b.csv", header, ["P2,2024-03-01,PA1,6.00"])
        code, out, _ = run(
            "--database-url", fresh_url, "import", "patient-payments", str(folder),
            "--json",
        )  # fmt: skip
        assert code == 0
        assert [o["counts"] for o in json.loads(out)] == [
            {"patient_payments": 1},
            {"patient_payments": 1},
        ]


class TestUsageErrors:
    def test_bad_column_map_exit_2(self, tmp_path: Path) -> None:
        """A column map naming an unknown column is a configuration error: exit 2."""
        config = tmp_path / "r.toml"
        config.write_text("[sources.claims.columns]\nclaim = 'Claim #'\n")
        path = write_lines(tmp_path / "c.csv", CLAIMS_HEADER, [claim_line()])
        code, out, err = run(
            "--config", str(config), "--database-url", f"sqlite:///{tmp_path}/r.db",
            "import", "claims", str(path),
        )  # fmt: skip
        assert code == 2
        assert "claim is not a claims column" in err
        assert len(err.strip().splitlines()) == 1
        assert "Traceback" not in out + err

    @pytest.mark.parametrize(
        "command", ["claims", "deposits", "patient-payments", "ledger"]
    )
    def test_a_path_is_required(self, command: str) -> None:
        """Without a path the command is a usage error (exit 2)."""
        code, _, err = run("import", command)
        assert code == 2
        assert "Missing argument" in err
