"""SQL expressions that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class distinct_list(FunctionElement[str]):
    """``group_concat(DISTINCT x)`` on SQLite, ``string_agg(DISTINCT x, ',')`` on
    PostgreSQL: the distinct values of a group, comma-separated, in no set order."""

    type = String()
    inherit_cache = True


@compiles(distinct_list, "sqlite")
def _distinct_list_sqlite(
    element: distinct_list, compiler: SQLCompiler, **kw: Any
) -> str:
    return f"group_concat(DISTINCT {compiler.process(element.clauses, **kw)})"


@compiles(distinct_list, "postgresql")
def _distinct_list_pg(element: distinct_list, compiler: SQLCompiler, **kw: Any) -> str:
    return f"string_agg(DISTINCT {compiler.process(element.clauses, **kw)}, ',')"
