"""Saving a workbook so that nobody ever sees half a file.

The folder is created (when missing) and a temporary file reserved in it *before* the
workbook is built, so an unwritable folder fails fast; the workbook is written to the
temporary file and renamed over the target in one step. The file is readable by its
owner only (mode 0600), because it names patients' claims and accounts.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook

from reconcile.errors import ReconcileError


class ReportWriteError(ReconcileError):
    """The workbook could not be written where it was asked for."""


def _reason(error: OSError) -> str:
    if isinstance(error, FileExistsError | NotADirectoryError):
        return "a file stands where the folder should be"
    return error.strerror or type(error).__name__


def write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write`` with a temporary path next to ``path``, then rename it over
    ``path``; return the absolute path written.

    Raises:
        ReportWriteError: the folder cannot be created or written, or the disk is
            full; nothing is left behind and an earlier file at ``path`` is kept.
    """
    target = path.expanduser().absolute()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
    except OSError as error:
        raise ReportWriteError(
            f"cannot write the workbook to {target.parent}: {_reason(error)}"
        ) from None
    temporary = Path(name)
    try:
        os.close(descriptor)
        temporary.chmod(0o600)
        write(temporary)
        with temporary.open("rb") as written:
            os.fsync(written.fileno())
        temporary.replace(target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise ReportWriteError(
            f"cannot write the workbook {target}: {_reason(error)}"
        ) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def discard(workbook: Workbook) -> None:
    """Close the streams of a write-only workbook that will not be saved.

    Without this, the half-written sheets' generators are finalised at exit and
    print errors; their temporary files are removed too.
    """
    for sheet in workbook.worksheets:
        with contextlib.suppress(Exception):
            sheet.close()  # write-only sheets have close()
        writer = getattr(sheet, "_writer", None)
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.cleanup()
