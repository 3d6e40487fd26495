"""`reconcile import era` end to end: exit codes, text and --json output, --check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconcile.cli import main
from tests.x12_scenarios import SCENARIOS

GOOD = SCENARIOS["ach_two_claims"].path
UNBALANCED = SCENARIOS["unbalanced_claim"].path
COUNT_KEYS = {
    "payments",
    "claims",
    "service_lines",
    "adjustments",
    "provider_adjustments",
}


def run(url: str, *args: str) -> tuple[int, str, str]:
    """Run the CLI against ``url``; return exit code, stdout and stderr."""
    result = CliRunner().invoke(
        main, ["--database-url", url, "import", "era", *args], catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


def _bad_file(tmp_path: Path) -> Path:
    bad = tmp_path / "bad.835"
    bad.write_text(GOOD.read_text().replace("CLP*PCN1001*1*", "CLP*PCN1001*5*"))
    return bad


class TestImportEra:
    def test_loads_and_reports_json(self, fresh_url: str) -> None:
        """A valid file loads: exit 0 and one DESIGN.md object per file."""
        code, out, _ = run(fresh_url, str(GOOD), "--json")
        assert code == 0
        [item] = json.loads(out)
        assert set(item) == {
            "file",
            "status",
            "reason",
            "counts",
            "skipped",
            "warnings",
        }
        assert item["status"] == "loaded"
        assert set(item["counts"]) == COUNT_KEYS
        assert (item["counts"]["claims"], item["skipped"], item["reason"]) == (2, 0, [])

    def test_second_import_is_already_imported(self, fresh_url: str) -> None:
        """The same file again is not an error."""
        run(fresh_url, str(GOOD))
        code, out, _ = run(fresh_url, str(GOOD), "--json")
        assert code == 0
        assert json.loads(out)[0]["status"] == "already_imported"

    def test_rejected_file_exits_1_and_others_load(
        self, fresh_url: str, tmp_path: Path
    ) -> None:
        """A rejected file is listed with its place and reason; exit 1."""
        code, out, err = run(fresh_url, str(_bad_file(tmp_path)), str(GOOD), "--json")
        assert code == 1
        rejected, loaded = json.loads(out)
        assert (rejected["status"], loaded["status"]) == ("rejected", "loaded")
        [problem] = rejected["reason"]
        assert problem["segment_id"] == "CLP"
        assert problem["place"] == f"segment {problem['segment']} (CLP)"
        assert "CLP02 '5' is not a 5010 claim status" in problem["reason"]
        assert "Traceback" not in err

    def test_text_output(self, fresh_url: str, tmp_path: Path) -> None:
        """Without --json, one line per file and the problems under it."""
        bad = _bad_file(tmp_path)
        code, out, _ = run(fresh_url, str(GOOD), str(bad))
        assert code == 1
        lines = out.splitlines()
        assert lines[0].startswith("loaded")
        assert "(payments 1, claims 2, service_lines 3, adjustments 5" in lines[0]
        assert lines[1].startswith("rejected")
        assert lines[2].strip().startswith(f"{bad}: segment 15 (CLP): CLP02 '5'")

    def test_each_file_is_reported_once(self, fresh_url: str, tmp_path: Path) -> None:
        """The outcome lines are the output: the log does not repeat them."""
        bad = _bad_file(tmp_path)
        for _ in range(2):  # loaded, then already imported
            code, out, err = run(fresh_url, str(GOOD), str(bad))
            assert code == 1
            assert out.count(GOOD.name) == 1
            assert out.count(bad.name) == 2  # its line, and its one problem
            assert GOOD.name not in err
            assert bad.name not in err

    @pytest.mark.parametrize(
        "url",
        [
            "mysql://nobody@db/reconcile",
            "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1",
        ],
    )
    def test_check_needs_no_database(self, url: str) -> None:
        """--check works whatever the database URL, usable or reachable or not."""
        code, out, err = run(url, str(GOOD), str(UNBALANCED), "--check", "--json")
        assert code == 1, err
        assert [o["status"] for o in json.loads(out)] == ["valid", "rejected"]
        assert "database" not in err

    def test_check_writes_nothing(self, tmp_path: Path) -> None:
        """--check validates without creating or opening the database."""
        database = tmp_path / "never.db"
        code, out, _ = run(f"sqlite:///{database}", str(GOOD), "--check", "--json")
        assert code == 0
        assert json.loads(out)[0]["status"] == "valid"
        assert json.loads(out)[0]["counts"]["claims"] == 2
        assert not database.exists()

    def test_check_reports_rejects(self, tmp_path: Path) -> None:
        """--check of an invalid file exits 1 with its problems."""
        url = f"sqlite:///{tmp_path / 'never.db'}"
        code, out, _ = run(url, str(_bad_file(tmp_path)), "--check", "--json")
        assert code == 1
        assert json.loads(out)[0]["status"] == "rejected"

    def test_allow_unbalanced(self, fresh_url: str) -> None:
        """--allow-unbalanced loads an unbalanced file with a warning; exit 0."""
        code, out, _ = run(fresh_url, str(UNBALANCED), "--json")
        assert code == 1
        code, out, _ = run(fresh_url, str(UNBALANCED), "--allow-unbalanced", "--json")
        assert code == 0
        [item] = json.loads(out)
        assert item["status"] == "loaded"
        assert "does not balance" in item["warnings"][0]["reason"]

    def test_not_an_835_is_one_clear_problem(
        self, fresh_url: str, tmp_path: Path
    ) -> None:
        """Any file a user can give gets a reason, never a traceback."""
        junk = tmp_path / "photo.jpg"
        junk.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF")
        missing = tmp_path / "missing.835"
        code, out, err = run(fresh_url, str(junk), str(missing))
        assert code == 1
        assert "does not start with an ISA segment" in out
        assert "the file does not exist" in out
        assert "Traceback" not in out + err

    def test_folder(self, fresh_url: str, tmp_path: Path) -> None:
        """A folder imports every file in it."""
        folder = tmp_path / "inbox"
        folder.mkdir()
        for name in ("ach_two_claims", "interest_l6", "bom_crlf"):
            (folder / f"{name}.835").write_bytes(SCENARIOS[name].path.read_bytes())
        code, out, _ = run(fresh_url, str(folder), "--json")
        assert code == 0
        assert [o["status"] for o in json.loads(out)] == ["loaded"] * 3

    def test_folder_takes_only_835s(self, fresh_url: str, tmp_path: Path) -> None:
        """In a folder, 835s by name or content load; acknowledgements, notes and
        other files are skipped."""
        folder = tmp_path / "inbox"
        folder.mkdir()
        (folder / "a.835").write_bytes(GOOD.read_bytes())
        (folder / "b.edi").write_bytes(SCENARIOS["interest_l6"].path.read_bytes())
        (folder / "c.ERA").write_text("not an 835 at all\n")  # named as one: read
        ack = GOOD.with_name(GOOD.name + ".997")
        (folder / "a.835.997").write_bytes(ack.read_bytes())
        (folder / "README.md").write_text("# inbox\n")
        (folder / "totals.csv").write_text("ISA,totals\n")
        code, out, err = run(fresh_url, str(folder), "--json")
        assert code == 1, err
        assert [(Path(o["file"]).name, o["status"]) for o in json.loads(out)] == [
            ("a.835", "loaded"),
            ("b.edi", "loaded"),
            ("c.ERA", "rejected"),
        ]

    @pytest.mark.parametrize("check", [False, True])
    def test_folder_without_835s_is_one_clear_error(
        self, fresh_url: str, tmp_path: Path, check: bool
    ) -> None:
        """An empty folder, or one with no 835 in it, says so and exits 1."""
        empty = tmp_path / "empty"
        empty.mkdir()
        notes = tmp_path / "notes"
        notes.mkdir()
        (notes / "README.md").write_text("# nothing here\n")
        args = [str(empty), str(notes)] + (["--check"] if check else [])
        code, out, err = run(fresh_url, *args)
        assert code == 1
        assert out.splitlines() == [
            f"rejected  {empty}",
            f"  {empty}: the folder is empty: it holds no file to import",
            f"rejected  {notes}",
            f"  {notes}: the folder holds no file to import (1 other file skipped)",
        ]
        assert "Traceback" not in out + err
