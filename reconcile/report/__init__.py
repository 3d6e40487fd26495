"""The Excel exception workbook, and accounting's decisions coming back from it.

``write_report`` writes a run's workbook (the run calls it after committing; ``reconcile
report`` calls it again later with ``current=True``); ``import_review`` reads the
decisions typed into a returned workbook, checks every one against the items' current
state and applies all of them or none.
"""

from reconcile.report.build import current_path, default_path, write_report
from reconcile.report.files import ReportWriteError
from reconcile.report.importer import ReviewOutcome, ReviewRefused, import_review
from reconcile.report.review import ReviewFileError
from reconcile.report.scope import RunNotFinishedError, UnknownRunError
from reconcile.report.sheets import EXCEL_MAX_ROWS

__all__ = [
    "EXCEL_MAX_ROWS",
    "ReportWriteError",
    "ReviewFileError",
    "ReviewOutcome",
    "ReviewRefused",
    "RunNotFinishedError",
    "UnknownRunError",
    "current_path",
    "default_path",
    "import_review",
    "write_report",
]
