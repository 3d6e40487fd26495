"""Architecture rules that no linter checks for us."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in (ROOT / folder).rglob("*.py")]


class TestClock:
    def test_only_cli_and_jobs_build_the_system_clock(self) -> None:
        """SystemClock (the wall clock) is constructed only in cli.py and jobs/."""
        offenders = [
            str(path.relative_to(ROOT))
            for path in _python_files("reconcile", "migrations")
            if path.name not in ("cli.py", "clock.py")
            and re.search(r"SystemClock\(", path.read_text(encoding="utf-8"))
        ]
        assert offenders == []

    def test_no_float_money(self) -> None:
        """No module converts text to money through float()."""
        offenders = [
            str(path.relative_to(ROOT))
            for path in _python_files("reconcile", "jobs")
            if re.search(r"\bfloat\(", path.read_text(encoding="utf-8"))
        ]
        assert offenders == []
