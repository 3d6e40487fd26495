"""Any mutated 835 is loaded completely or rejected with nothing written.

Runs the real import (driver, transaction, bulk writes) on the test database, so
values that pass the reader but not the database (too long, NUL bytes) would show
here as an exception or a partial load.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine, func, select

from reconcile.db.tables import SourceFile
from reconcile.ingest import ImportStatus
from tests.integration.ingest.era_helpers import import_era, row_counts
from tests.unit.ingest.x12.test_fuzz import mutated


class TestLoadFuzz:
    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(data=mutated())
    def test_loaded_whole_or_not_at_all(
        self, fresh_engine: Engine, tmp_path: Path, data: bytes
    ) -> None:
        """The import writes exactly its counts, or (rejected) nothing at all."""
        path = tmp_path / "mutated.835"
        path.write_bytes(data)
        before = row_counts(fresh_engine)
        [outcome] = import_era(fresh_engine, path, allow_unbalanced=len(data) % 2 == 0)
        after = row_counts(fresh_engine)
        written = {key: after[key] - before[key] for key in after}
        if outcome.status is ImportStatus.LOADED:
            assert written == outcome.counts
        elif outcome.status is ImportStatus.REJECTED:
            assert outcome.reason
            assert set(written.values()) == {0}
        else:
            assert outcome.status is ImportStatus.ALREADY_IMPORTED
            assert set(written.values()) == {0}
        with fresh_engine.connect() as conn:
            files = conn.execute(
                select(func.count()).select_from(SourceFile)
            ).scalar_one()
        assert files >= 1
