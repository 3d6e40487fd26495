"""Opening tabular files: CSV dialects and encodings, XLSX sheets, refusals."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from reconcile.ingest import FileRejected
from reconcile.ingest.tabular.csv_table import sniff_dialect
from reconcile.ingest.tabular.files import open_table
from reconcile.ingest.tabular.table import RowsUnreadable


def read_all(path: Path, sheet: str | None = None) -> tuple[list[object], list[tuple]]:
    with open_table(path=path, sheet=sheet) as table:
        rows = [(line, list(cells)) for line, cells in table.rows]
        return list(table.header), rows


class TestCsvDialects:
    @pytest.mark.parametrize("delimiter", [",", ";", "|", "\t"])
    def test_delimiters_are_sniffed(self, tmp_path: Path, delimiter: str) -> None:
        """Comma, semicolon, pipe and tab files read alike."""
        path = tmp_path / "f.csv"
        rows = [["claim_id", "amount"], ["C1", "1,00"], ["C2", "2.50"]]
        text = "\n".join(delimiter.join(r) for r in rows) + "\n"
        if delimiter == ",":
            text = text.replace("1,00", '"1,00"')
        path.write_text(text)
        header, body = read_all(path)
        assert header == ["claim_id", "amount"]
        assert body == [(2, ["C1", "1,00"]), (3, ["C2", "2.50"])]

    def test_quoted_fields_with_delimiters_quotes_and_newlines(
        self, tmp_path: Path
    ) -> None:
        """Quoting is standard: doubled quotes, embedded line breaks."""
        path = tmp_path / "f.csv"
        path.write_text(
            'id,amount,note\nC1,"$1,234.56","said ""hi""\nthen left"\nC2,5,x\n'
        )
        _, body = read_all(path)
        assert body[0] == (2, ["C1", "$1,234.56", 'said "hi"\nthen left'])
        # A record that spans lines is numbered by its first line.
        assert body[1] == (4, ["C2", "5", "x"])

    def test_quotes_after_the_sample_are_still_doubled(self, tmp_path: Path) -> None:
        """A sample without quotes does not switch doubled quotes off."""
        path = tmp_path / "f.csv"
        lines = ["id,note"] + [f"C{n},plain" for n in range(5000)]
        lines.append('C9,"a ""quoted"" word"')
        path.write_text("\n".join(lines) + "\n")
        _, body = read_all(path)
        assert body[-1][1] == ["C9", 'a "quoted" word']

    def test_single_column_file(self, tmp_path: Path) -> None:
        """A file with one column (nothing to sniff) still reads."""
        path = tmp_path / "f.csv"
        path.write_text("claim_id\nC1\nC2\n")
        header, body = read_all(path)
        assert header == ["claim_id"]
        assert [cells for _, cells in body] == [["C1"], ["C2"]]

    def test_crlf_and_leading_blank_lines(self, tmp_path: Path) -> None:
        """Windows line ends work; blank lines before the header are skipped."""
        path = tmp_path / "f.csv"
        path.write_bytes(b"\r\n\r\nid;amount\r\nC1;5\r\n")
        with open_table(path=path, sheet=None) as table:
            assert table.header_line == 3
            assert list(table.rows) == [(4, ["C1", "5"])]

    def test_sniffer_fallback_counts_header_delimiters(self) -> None:
        """When the sniffer gives up, the header's most common delimiter wins."""
        assert sniff_dialect("a|b|c\n").delimiter == "|"
        assert sniff_dialect("single\n").delimiter == ","


class TestCsvEncodings:
    def test_utf8_with_bom(self, tmp_path: Path) -> None:
        """A UTF-8 byte-order mark is not part of the first header."""
        path = tmp_path / "f.csv"
        path.write_bytes("\ufeffclaim_id,payer\nC1,Señor Seguro\n".encode())
        header, body = read_all(path)
        assert header == ["claim_id", "payer"]
        assert body[0][1] == ["C1", "Señor Seguro"]

    def test_windows_1252_fallback(self, tmp_path: Path) -> None:
        """Text that is not UTF-8 is read as Windows-1252 (Excel's 'CSV')."""
        path = tmp_path / "f.csv"
        path.write_bytes("id,payer\nC1,Caja Médica – Norte\n".encode("cp1252"))
        _, body = read_all(path)
        assert body[0][1] == ["C1", "Caja Médica – Norte"]

    def test_a_late_non_utf8_byte_is_found_first(self, tmp_path: Path) -> None:
        """The whole file is checked before reading, so late bytes decode right."""
        path = tmp_path / "f.csv"
        lines = ["id,payer"] + [f"C{n},x" for n in range(30_000)] + ["C,Zoë"]
        path.write_bytes("\n".join(lines).encode("cp1252"))
        _, body = read_all(path)
        assert body[-1][1] == ["C", "Zoë"]

    def test_binary_file_is_refused(self, tmp_path: Path) -> None:
        """Bytes that are neither UTF-8 nor Windows-1252 reject the file."""
        path = tmp_path / "f.csv"
        path.write_bytes(b"id,x\n\x81\x8d\x8f\x90\x9d\n")
        with pytest.raises(FileRejected, match="not a CSV text file"):
            read_all(path)


class TestEmptyAndForeignFiles:
    @pytest.mark.parametrize("content", [b"", b"\n\n  \n", b",,,\n"])
    def test_no_header(self, tmp_path: Path, content: bytes) -> None:
        """A file without a header row is rejected."""
        path = tmp_path / "f.csv"
        path.write_bytes(content)
        with pytest.raises(FileRejected, match="no header row"):
            read_all(path)

    def test_old_xls_is_refused_with_advice(self, tmp_path: Path) -> None:
        """An OLE2 .xls workbook is refused with what to do instead."""
        path = tmp_path / "f.xls"
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
        with pytest.raises(FileRejected, match=r"save it as \.xlsx or CSV"):
            read_all(path)

    def test_zip_that_is_no_workbook(self, tmp_path: Path) -> None:
        """A ZIP without a workbook inside is not readable."""
        path = tmp_path / "f.xlsx"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("hello.txt", "hi")
        with pytest.raises(FileRejected, match="not a readable XLSX workbook"):
            read_all(path)


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


class TestXlsx:
    def test_first_sheet_by_default(self, tmp_path: Path) -> None:
        """Without --sheet the first worksheet is read, cells typed."""
        path = _workbook(
            tmp_path / "w.xlsx",
            {"Claims": [["claim_id", "amount"], ["C1", 12.5]], "Other": [["x"]]},
        )
        header, body = read_all(path)
        assert header == ["claim_id", "amount"]
        assert body == [(2, ["C1", 12.5])]

    def test_named_sheet_exact_or_ignoring_case(self, tmp_path: Path) -> None:
        """--sheet picks a worksheet by name, ignoring case if unambiguous."""
        path = _workbook(
            tmp_path / "w.xlsx", {"Summary": [["x"]], "Payments": [["id"], ["P1"]]}
        )
        assert read_all(path, "Payments")[1] == [(2, ["P1"])]
        assert read_all(path, "payments")[1] == [(2, ["P1"])]

    def test_missing_sheet_lists_the_sheets(self, tmp_path: Path) -> None:
        """A sheet that is not there is a clear rejection naming those that are."""
        path = _workbook(tmp_path / "w.xlsx", {"Summary": [["x"]], "Data": [["y"]]})
        with pytest.raises(FileRejected) as error:
            read_all(path, "Payments")
        assert error.value.problems[0].reason == (
            "the workbook has no sheet 'Payments'; its sheets are: 'Summary', 'Data'"
        )

    def test_row_numbers_are_the_sheets(self, tmp_path: Path) -> None:
        """Rows keep their sheet numbers across empty rows and a late header."""
        path = _workbook(
            tmp_path / "w.xlsx",
            {"S": [[], ["id", "n"], ["A", 1], [], [None, None], ["B", 2]]},
        )
        with open_table(path=path, sheet=None) as table:
            assert table.header_line == 2
            rows = [(line, list(c)) for line, c in table.rows if any(c)]
        assert rows == [(3, ["A", 1]), (6, ["B", 2])]

    def test_sheet_option_on_csv_is_a_warning(self, tmp_path: Path) -> None:
        """--sheet has no meaning for CSV: it is ignored with a warning."""
        path = tmp_path / "f.csv"
        path.write_text("id\nA\n")
        with open_table(path=path, sheet="Data") as table:
            assert "ignored for this CSV file" in table.warnings[0].reason


class TestUnreadableRows:
    def test_csv_error_stops_reading_at_its_line(self, tmp_path: Path) -> None:
        """A field beyond the csv module's limit stops reading, with the line."""
        path = tmp_path / "f.csv"
        path.write_text("id,note\nA,x\nB," + "y" * 200_000 + "\n")
        with (
            open_table(path=path, sheet=None) as table,
            pytest.raises(RowsUnreadable) as error,
        ):
            list(table.rows)
        assert error.value.line == 3
