"""Which files of a folder are 835s: by name, else by content."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.ingest.x12.sniff import looks_like_835
from tests.x12_scenarios import SCENARIOS

ACK = SCENARIOS["ach_two_claims"].path.with_name("ach_two_claims.835.997")


class TestLooksLike835:
    @pytest.mark.parametrize("name", sorted(SCENARIOS))
    def test_every_scenario_is_found_by_content(
        self, name: str, tmp_path: Path
    ) -> None:
        """Each scenario 835 (delimiters, BOM, wrapping, newlines) is an 835 under
        any name."""
        path = tmp_path / "remit.dat"
        path.write_bytes(SCENARIOS[name].path.read_bytes())
        assert looks_like_835(path)

    @pytest.mark.parametrize(
        ("name", "content"),
        [
            ("ack.997", ACK.read_bytes()),
            ("README.md", b"# 835 inbox\nST*835*0001~\n"),
            ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF"),
            ("empty.txt", b""),
            ("isa.txt", b"ISA"),
            ("claims.csv", b"ISA,GS,HP\n1,2,3\n"),
        ],
    )
    def test_other_files_are_not(
        self, name: str, content: bytes, tmp_path: Path
    ) -> None:
        """Acknowledgements, notes and other files are skipped."""
        path = tmp_path / name
        path.write_bytes(content)
        assert not looks_like_835(path)

    @pytest.mark.parametrize("name", ["x.835", "X.ERA", "remit.era"])
    def test_an_835_name_is_taken_whatever_it_holds(
        self, name: str, tmp_path: Path
    ) -> None:
        """A file named as an 835 is imported (and rejected if it is not one)."""
        path = tmp_path / name
        path.write_text("hello\n")
        assert looks_like_835(path)
