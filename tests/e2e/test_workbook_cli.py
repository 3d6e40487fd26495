"""The workbook from the command line: run --report, report, review import."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import Engine

from reconcile.cli import main
from tests.factories import make_refund, make_scenario

MARCH = ("run", "--from", "2024-03-01", "--to", "2024-03-31")


def cli(url: str, *args: str) -> tuple[int, str, str]:
    """Run reconcile on ``url``; return exit code, stdout and stderr."""
    result = CliRunner().invoke(main, ["-q", "--database-url", url, *args])
    return result.exit_code, result.stdout, result.stderr


def decide(path: Path, sheet: str, **values: object) -> None:
    """Type values into the first item row of a sheet."""
    wb = load_workbook(path)
    ws = wb[sheet]
    headers = {cell.value: cell.column for cell in ws[2]}
    for header, value in values.items():
        ws.cell(row=3, column=headers[header], value=value)
    wb.save(path)


class TestRun:
    def test_report_option_writes_the_workbook(
        self, fresh_url: str, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """`run --report FILE` writes there, privately, and says where."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
        target = tmp_path / "out" / "march.xlsx"
        code, out, err = cli(fresh_url, *MARCH, "--report", str(target))
        assert code == 0, err
        assert f"Workbook: {target}" in out
        assert stat.S_IMODE(target.stat().st_mode) == 0o600

    def test_default_folder_is_relative_to_the_working_directory(
        self, fresh_url: str, fresh_engine: Engine
    ) -> None:
        """Without --report the workbook goes to ./reports/, named in the summary."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
        code, out, err = cli(fresh_url, *MARCH, "--json")
        assert code == 0, err
        summary = json.loads(out)
        assert summary["report"] == str(
            Path.cwd() / "reports" / "reconcile-1-2024-03-01-2024-03-31.xlsx"
        )
        assert Path(summary["report"]).is_file()

    def test_unwritable_folder_is_one_sentence_and_exit_1(
        self, fresh_url: str, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """The run's results stay; the run is failed; no traceback."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
        blocker = tmp_path / "file"
        blocker.write_text("")
        code, out, err = cli(fresh_url, *MARCH, "--report", str(blocker / "x.xlsx"))
        assert code == 1
        errors = [line for line in err.splitlines() if line.startswith("Error:")]
        assert errors == [
            f"Error: cannot write the workbook to {blocker}: a file stands where the "
            "folder should be."
        ]
        assert err.splitlines()[-1] == errors[0]
        assert "Traceback" not in out + err
        code, out, _ = cli(fresh_url, "runs", "list", "--json")
        (recorded,) = json.loads(out)
        assert recorded["status"] == "failed"
        assert recorded["summary"]["exceptions"]


class TestReport:
    def test_rewrites_with_the_current_state(
        self, fresh_url: str, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """`report RUN_ID --output FILE` writes a workbook titled as current."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
        assert cli(fresh_url, *MARCH)[0] == 0
        target = tmp_path / "now.xlsx"
        code, out, err = cli(fresh_url, "report", "1", "--output", str(target))
        assert code == 0, err
        assert str(target) in out
        assert "current state" in load_workbook(target)["Summary"]["A1"].value

    def test_unknown_run_exits_1(self, fresh_url: str) -> None:
        """A run that does not exist is one sentence, exit 1."""
        code, _, err = cli(fresh_url, "report", "99")
        assert code == 1
        assert err.strip() == "Error: there is no run 99."


class TestReviewImport:
    def test_applies_and_reports_then_is_idempotent(
        self, fresh_url: str, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Applied decisions are printed; a second import applies nothing."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
            make_refund(conn)
        book = tmp_path / "march.xlsx"
        assert cli(fresh_url, *MARCH, "--report", str(book))[0] == 0
        decide(book, "Refunds", Decision="approve", Note="checked the EOB")
        code, out, err = cli(
            fresh_url, "review", "import", str(book), "--by", "ana", "--dry-run"
        )
        assert code == 0, err
        assert out.startswith(
            "Dry run: would apply 1 decision by ana; nothing changed."
        )
        code, out, err = cli(fresh_url, "review", "import", str(book), "--by", "ana")
        assert code == 0, err
        assert out.splitlines() == [
            "Applied 1 decision by ana:",
            "  'Refunds' row 3: refund 1: queued → approved (approve)",
        ]
        code, out, _ = cli(fresh_url, "review", "import", str(book), "--by", "ana")
        assert code == 0
        assert out.splitlines() == [
            "No new decisions to apply.",
            "Skipped 1 the items already carry:",
            "  'Refunds' row 3: refund 1 is already approved",
        ]

    def test_refusal_lists_every_problem_then_one_sentence(
        self, fresh_url: str, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Exit 1; each problem on its own line, then the error sentence."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
            make_refund(conn)
        book = tmp_path / "march.xlsx"
        assert cli(fresh_url, *MARCH, "--report", str(book))[0] == 0
        decide(book, "Refunds", Decision="issue")
        decide(book, "Underpaid claims", Decision="write_off")
        code, out, err = cli(fresh_url, "review", "import", str(book), "--by", "ana")
        assert code == 1
        assert out == ""
        assert err.splitlines() == [
            "  'Underpaid claims' row 3: write_off needs a Note saying why",
            "  'Refunds' row 3: issue needs a Reference (check number or EFT trace)",
            "Error: nothing was applied: the workbook has 2 problems (listed above).",
        ]

    def test_not_a_workbook(self, fresh_url: str, tmp_path: Path) -> None:
        """A file that is not a workbook is one sentence, exit 1."""
        path = tmp_path / "notes.xlsx"
        path.write_text("hello")
        code, _, err = cli(fresh_url, "review", "import", str(path), "--by", "ana")
        assert code == 1
        assert err.strip() == f"Error: {path} is not an Excel workbook (.xlsx)."

    def test_reviewer_name_is_required(self, fresh_url: str, tmp_path: Path) -> None:
        """An empty --by is a usage error (exit 2)."""
        code, _, err = cli(
            fresh_url, "review", "import", str(tmp_path / "x.xlsx"), "--by", "  "
        )
        assert code == 2
        assert "give a name of 1 to 120 characters" in err
