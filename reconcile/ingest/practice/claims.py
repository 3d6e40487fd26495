"""Claims: new claims and new versions of known claims, written as sets.

A claims export names each claim with its values. Against what is known:

- a claim never seen gets version 1 in ``expected_claim_version`` and a row in
  ``expected_claim``;
- a known claim whose values changed gets version n + 1 (this file, this line), and
  ``expected_claim`` takes the new values: the versions keep which file said what;
- a known claim with the same values is skipped (counted, not written).

Three statements do it, whatever the file's size: one ``INSERT … SELECT`` of the new
and changed claims from the staging table into the versions, one ``UPDATE … FROM``
for the changed claims, one ``INSERT … SELECT`` for the new ones. Ids come from
blocks reserved up front, not a sequence call per row: versions get first id +
``seq`` in file order (claims left unchanged leave gaps), new claims are numbered in
version order; so each primary key grows at its end. When every staged claim is new
(a first import), the claims are written straight from the stage, numbered by
``seq`` like their versions: no window function, no sort, no reading back.

A load that at least doubles a table rebuilds its secondary indexes (and on
PostgreSQL its foreign keys) once instead of maintaining them row by row
(:mod:`~reconcile.ingest.rebuild`). On PostgreSQL their primary and unique keys go
too, because the statements guarantee them: ids come from reserved blocks, versions
are unique by (claim, known version + 1), the stage holds no claim twice, and a new
claim is one not yet in ``expected_claim``. The statements that look rows up by a
key (the versions' anti-join and the ``UPDATE`` by ``claim_id``, the ``UPDATE``
and the window by version id) run while those keys are in place; adding each key
back checks every row again.

Versions follow the order files are imported in: an older export imported later
becomes the newest version.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from reconcile.db.bulk import reserve_ids
from reconcile.db.tables import ExpectedClaim, ExpectedClaimVersion
from reconcile.ingest.practice.staging import table_of
from reconcile.ingest.rebuild import (
    lock_for_rebuild,
    rebuilt,
    worth_rebuilding,
)

log = logging.getLogger(__name__)

#: The values a claims file gives for a claim (what a new version can change).
VALUE_COLUMNS = (
    "payer_id",
    "payer_name",
    "patient_account",
    "provider_npi",
    "service_on",
    "billed_cents",
    "expected_cents",
    "expected_patient_cents",
    "submitted_on",
)

_PRESERVE = {"preserve_rowcount": True}


@dataclass(frozen=True)
class ClaimWrites:
    """What writing one claims file did."""

    new: int  # claims never seen before (version 1)
    changed: int  # known claims with new values (version n + 1)
    unchanged: int  # known claims with the same values (skipped)

    @property
    def written(self) -> int:
        """Versions written: the file's ``claims`` count."""
        return self.new + self.changed


def write_claims(
    conn: Connection, *, stage: Table, staged: int, source_file_id: int
) -> ClaimWrites:
    """Write the staged claims as new claims or new versions (see module docstring).

    The stage holds ``staged`` rows, no claim twice.

    Raises:
        RuntimeError: the three statements disagree on how many rows they wrote
            (the transaction is then rolled back by the caller).
    """
    if staged == 0:
        return ClaimWrites(new=0, changed=0, unchanged=0)
    versions = table_of(ExpectedClaimVersion)
    claims = table_of(ExpectedClaim)
    # Ids for the most versions this file can add; unchanged claims leave gaps.
    first = reserve_ids(conn, versions.name, staged)
    new_versions = _new_or_changed(
        stage=stage, first=first, source_file_id=source_file_id
    )
    columns = ["id", "source_file_id", "line_number", "claim_id", "version"]
    # Both claim tables may be rebuilt: lock them together, before either.
    rebuild_versions = worth_rebuilding(
        conn, versions, new_rows=staged
    ) and lock_for_rebuild(conn, [versions, claims])
    # The anti-join looks claims up in expected_claim's unique index, still there.
    with rebuilt(conn, versions, rebuild=rebuild_versions, unique=True):
        written = int(
            conn.execute(
                insert(versions).from_select([*columns, *VALUE_COLUMNS], new_versions),
                execution_options=_PRESERVE,
            ).rowcount
        )
    v, c = versions.c, claims.c
    this_file = v.id.between(first, first + staged - 1)
    changed = conn.execute(
        update(claims)
        .where(this_file, v.version > 1, v.claim_id == c.claim_id)
        .values(
            version=v.version,
            version_id=v.id,
            **{name: v[name] for name in VALUE_COLUMNS},
        ),
        execution_options=_PRESERVE,
    ).rowcount
    new_rows = written - changed
    new = 0
    if new_rows:
        # Ids from a reserved block too: no sequence call per row.
        first_claim = reserve_ids(conn, claims.name, new_rows)
        new_claims = _new_claims(
            stage=stage,
            this_file=this_file,
            first_claim=first_claim,
            first_version=first if new_rows == staged else None,
        )
        rebuild_claims = worth_rebuilding(conn, claims, new_rows=new_rows) and (
            rebuild_versions or lock_for_rebuild(conn, [claims])
        )
        # After the UPDATE, which finds changed claims through the unique claim_id.
        with rebuilt(conn, claims, rebuild=rebuild_claims, unique=True):
            new = conn.execute(
                insert(claims).from_select(
                    ["id", "claim_id", "version", "version_id", *VALUE_COLUMNS],
                    new_claims,
                ),
                execution_options=_PRESERVE,
            ).rowcount
    if new + changed != written:
        raise RuntimeError(
            f"claim versions out of step: {written} written, {new} new, {changed} "
            "changed"
        )
    log.info("claims: %d new, %d changed, %d unchanged", new, changed, staged - written)
    return ClaimWrites(new=new, changed=changed, unchanged=staged - written)


def _new_claims(
    *,
    stage: Table,
    this_file: ColumnElement[bool],
    first_claim: int,
    first_version: int | None,
) -> Select[Any]:
    """The ``expected_claim`` rows of this file's new claims (version 1), numbered
    from ``first_claim`` in version order.

    ``first_version`` is given when every staged claim is new: each staged row then
    became version 1 with id ``first_version`` + ``seq``, so the rows come straight
    from the stage (a temporary table, faster to read than the versions just
    written) and are numbered by ``seq``. Otherwise unchanged and changed claims
    leave gaps, and a window numbers this file's version-1 rows.
    """
    if first_version is not None:
        s = stage.c
        return select(
            (s.seq + first_claim).label("id"),
            s.claim_id,
            literal(1).label("version"),
            (s.seq + first_version).label("version_id"),
            *(s[n] for n in VALUE_COLUMNS),
        )
    v = table_of(ExpectedClaimVersion).c
    return (
        select(
            (func.row_number().over(order_by=v.id) + (first_claim - 1)).label("id"),
            v.claim_id,
            v.version,
            v.id,
            *(v[n] for n in VALUE_COLUMNS),
        )
        .where(this_file, v.version == 1)
        .order_by(v.id)
    )


def _new_or_changed(*, stage: Table, first: int, source_file_id: int) -> Select[Any]:
    """The version rows of every staged claim that is new or has changed values:
    ``id`` (``first`` + ``seq``), the file, the line, the claim, its version number
    (the known one + 1) and its values."""
    claims = table_of(ExpectedClaim)
    s, c = stage.c, claims.c
    differs = or_(*(s[name].is_distinct_from(c[name]) for name in VALUE_COLUMNS))
    return (
        select(
            (s.seq + first).label("id"),
            literal(source_file_id).label("source_file_id"),
            s.line_number,
            s.claim_id,
            (func.coalesce(c.version, 0) + 1).label("version"),
            *(s[name] for name in VALUE_COLUMNS),
        )
        .select_from(stage.outerjoin(claims, c.claim_id == s.claim_id))
        .where(or_(c.id.is_(None), differs))
    )
