"""Saving atomically: the whole file or the earlier one, never half, never public."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from reconcile.report.files import ReportWriteError, write_atomically


class TestWriteAtomically:
    def test_creates_the_folder_and_the_private_file(self, tmp_path: Path) -> None:
        """Missing folders are created; the file is mode 0600."""
        target = tmp_path / "a" / "b" / "book.xlsx"
        written = write_atomically(target, lambda p: p.write_bytes(b"new"))
        assert written == target
        assert target.read_bytes() == b"new"
        assert stat.S_IMODE(target.stat().st_mode) == 0o600

    def test_a_failed_write_keeps_the_earlier_file(self, tmp_path: Path) -> None:
        """An error while writing leaves the old file and no temporary file."""
        target = tmp_path / "book.xlsx"
        target.write_bytes(b"old")

        def broken(path: Path) -> None:
            path.write_bytes(b"half")
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            write_atomically(target, broken)
        assert target.read_bytes() == b"old"
        assert [p.name for p in tmp_path.iterdir()] == ["book.xlsx"]

    def test_disk_errors_are_one_sentence(self, tmp_path: Path) -> None:
        """An OSError while writing becomes a ReportWriteError naming the file."""
        target = tmp_path / "book.xlsx"

        def full(path: Path) -> None:
            raise OSError(28, "No space left on device")

        with pytest.raises(ReportWriteError, match="No space left on device"):
            write_atomically(target, full)
        assert list(tmp_path.iterdir()) == []

    def test_a_file_in_the_way_of_the_folder(self, tmp_path: Path) -> None:
        """A folder path that is a file is refused before anything is written."""
        (tmp_path / "reports").write_text("")
        called: list[Path] = []
        with pytest.raises(ReportWriteError, match="a file stands where the folder"):
            write_atomically(tmp_path / "reports" / "x.xlsx", called.append)
        assert called == []
