"""Declarative reading of CSV files and XLSX sheets: column maps, formats, problems.

A source describes its columns once (:mod:`~reconcile.ingest.tabular.spec`); the
reader opens the file whatever its dialect, encoding or format
(:mod:`~reconcile.ingest.tabular.files`), binds the header through the configured
column map and streams validated rows (:mod:`~reconcile.ingest.tabular.rows`),
collecting every problem with its line and column.
"""

from reconcile.ingest.tabular.files import open_table
from reconcile.ingest.tabular.problems import ProblemLog
from reconcile.ingest.tabular.rows import BoundColumn, bind_header, stage_rows
from reconcile.ingest.tabular.spec import Column, ColumnType, TableSpec

__all__ = [
    "BoundColumn",
    "Column",
    "ColumnType",
    "ProblemLog",
    "TableSpec",
    "bind_header",
    "open_table",
    "stage_rows",
]
