"""Which files of a folder are 835 remittances, by name and by content.

An 835 inbox also holds what travels with the remittances: 999/997 acknowledgements
(X12 too, starting with ``ISA``), 277 claim status files, notes and spreadsheets.
``reconcile import era FOLDER`` takes a file of the folder when

- its name ends in ``.835`` or ``.era`` (any case): it is meant to be an 835, so it
  is imported, or rejected with its reasons if it is not one; or
- its content is an 835: after a byte-order mark and blank space it starts with an
  ISA segment whose delimiters are usable, and within the first 64 KiB comes a
  functional group of health care payments (``GS*HP``) or an 835 transaction set
  (``ST*835``).

Other files of the folder are skipped. A file named on the command line is always
imported, whatever its name or content.
"""

from __future__ import annotations

from pathlib import Path

from reconcile.ingest.x12.tokenizer import X12SyntaxError, read_delimiters

#: Names that say "835", whatever they hold.
SUFFIXES = frozenset({".835", ".era"})
_SNIFF_BYTES = 64 * 1024
_BOM = b"\xef\xbb\xbf"


def looks_like_835(path: Path) -> bool:
    """Whether a file found in a folder is an 835 to import (see the module)."""
    if path.suffix.casefold() in SUFFIXES:
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return False
    return _holds_835(head.removeprefix(_BOM).decode("latin-1").lstrip())


def _holds_835(text: str) -> bool:
    if not text.startswith("ISA"):
        return False
    # Text wrapped at a fixed width has line breaks anywhere, even inside the ISA;
    # a file whose terminator is a line break needs them kept.
    for candidate in (text.replace("\r", "").replace("\n", ""), text):
        try:
            delimiters = read_delimiters(candidate)
        except X12SyntaxError:
            continue
        element = delimiters.element
        wanted = (f"GS{element}HP{element}", f"ST{element}835{element}")
        segments = candidate.split(delimiters.segment)
        return any(s.strip().startswith(wanted) for s in segments)
    return False
