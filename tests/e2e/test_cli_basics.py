"""The CLI skeleton: help, version, db upgrade and one-sentence errors."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from reconcile import __version__
from reconcile.cli import main


def run(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    for name, command in group.commands.items():
        path = (*prefix, name)
        yield path, command
        if isinstance(command, click.Group):
            yield from _all_commands(command, path)


class TestHelp:
    def test_version(self) -> None:
        """--version prints the package version."""
        code, out, _ = run("--version")
        assert code == 0
        assert __version__ in out

    @pytest.mark.parametrize("path", [p for p, _ in _all_commands(main)], ids=" ".join)
    def test_every_command_has_help_with_an_example(
        self, path: tuple[str, ...]
    ) -> None:
        """Every command and group explains itself; every command shows an example."""
        code, out, _ = run(*path, "--help")
        assert code == 0
        assert "Usage:" in out
        command = dict(_all_commands(main))[path]
        if not isinstance(command, click.Group):
            assert "Example:" in out
            assert "reconcile " in out.split("Example:")[1]


class TestDatabaseCommands:
    def test_db_upgrade_creates_then_is_a_no_op(self, tmp_path: Path) -> None:
        """db upgrade creates the schema once and then reports it is current."""
        url = f"sqlite:///{tmp_path / 'r.db'}"
        code, out, _ = run("--database-url", url, "db", "upgrade")
        assert code == 0
        assert "Created the schema" in out
        code, out, _ = run("--database-url", url, "db", "upgrade")
        assert code == 0
        assert "already at schema revision" in out

    @pytest.mark.parametrize(
        ("url", "message"),
        [
            ("nonsense://x", "unsupported database URL"),
            ("not a url", "is not a database URL"),
            ("mysql://u@h/db", "unsupported database URL"),
        ],
    )
    def test_bad_url_exits_2_with_one_sentence(self, url: str, message: str) -> None:
        """An unusable URL is a usage error: exit 2, one line, no traceback."""
        code, out, err = run("--database-url", url, "db", "upgrade")
        assert code == 2
        assert message in err
        assert len(err.strip().splitlines()) == 1
        assert "Traceback" not in err + out

    def test_unopenable_sqlite_file_exits_2(self, tmp_path: Path) -> None:
        """A SQLite file in a missing folder cannot be opened: exit 2."""
        url = f"sqlite:///{tmp_path / 'missing' / 'r.db'}"
        code, _, err = run("--database-url", url, "db", "upgrade")
        assert code == 2
        assert "cannot open the database" in err

    def test_unreachable_server_exits_2(self) -> None:
        """A PostgreSQL server that is not there: exit 2, one sentence."""
        url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
        code, _, err = run("--database-url", url, "db", "upgrade")
        assert code == 2
        assert err.startswith("Error: cannot open the database postgresql+psycopg://")
        assert len(err.strip().splitlines()) == 1


class TestConfigErrors:
    def test_malformed_config_exits_2(self, tmp_path: Path) -> None:
        """A broken config file is one sentence and exit 2."""
        config = tmp_path / "bad.toml"
        config.write_text("[matching\ntolerance_cents = 5\n")
        code, out, err = run(
            "--config", str(config), "--database-url", f"sqlite:///{tmp_path}/r.db",
            "db", "upgrade",
        )  # fmt: skip
        assert code == 2
        assert "is not valid TOML" in err
        assert "Traceback" not in err + out

    def test_bad_value_exits_2(self, tmp_path: Path) -> None:
        """A bad value names its key."""
        config = tmp_path / "bad.toml"
        config.write_text("[matching]\ntolerance_cents = -5\n")
        code, _, err = run("--config", str(config), "db", "upgrade")
        assert code == 2
        assert "[matching] tolerance_cents must be at least 0" in err
