"""Configuration loading: lookup order, overrides, defaults and clear errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from reconcile.settings import (
    ConfigError,
    PayerKind,
    Settings,
    load_settings,
    settings_as_toml_keys,
)

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reconcile.toml"
    path.write_text(text, encoding="utf-8")
    return path


class TestLookup:
    def test_shipped_file_documents_the_builtin_defaults(self) -> None:
        """config/reconcile.toml holds exactly the built-in defaults."""
        shipped = load_settings(
            config_path=ROOT / "config" / "reconcile.toml", environ={}
        )
        assert settings_as_toml_keys(shipped) == settings_as_toml_keys(Settings())

    def test_builtin_defaults_without_any_file(self, tmp_path: Path) -> None:
        """With no file anywhere the built-in defaults apply."""
        settings = load_settings(environ={}, cwd=tmp_path)
        assert settings.path is None
        assert settings.database.url == "sqlite:///reconcile.db"

    def test_order_flag_env_cwd(self, tmp_path: Path) -> None:
        """--config beats RECONCILE_CONFIG, which beats ./config/reconcile.toml."""
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "reconcile.toml").write_text(
            '[practice]\nstate = "SC"\n'
        )
        env_file = tmp_path / "env.toml"
        env_file.write_text('[practice]\nstate = "NY"\n')
        flag_file = tmp_path / "flag.toml"
        flag_file.write_text('[practice]\nstate = "TX"\n')
        env = {"RECONCILE_CONFIG": str(env_file)}
        assert load_settings(environ={}, cwd=tmp_path).practice.state == "SC"
        assert load_settings(environ=env, cwd=tmp_path).practice.state == "NY"
        assert (
            load_settings(
                config_path=flag_file, environ=env, cwd=tmp_path
            ).practice.state
            == "TX"
        )

    def test_database_url_overrides(self, tmp_path: Path) -> None:
        """--database-url beats RECONCILE_DATABASE_URL, which beats the file."""
        path = write(tmp_path, '[database]\nurl = "sqlite:///file.db"\n')
        env = {"RECONCILE_DATABASE_URL": "sqlite:///env.db"}
        assert (
            load_settings(config_path=path, environ={}).database.url
            == "sqlite:///file.db"
        )
        assert (
            load_settings(config_path=path, environ=env).database.url
            == "sqlite:///env.db"
        )
        assert (
            load_settings(
                config_path=path, environ=env, database_url="sqlite:///x.db"
            ).database.url
            == "sqlite:///x.db"
        )


class TestValues:
    def test_payer_profiles(self, tmp_path: Path) -> None:
        """Payer profiles are read with their overrides."""
        path = write(
            tmp_path,
            """
[[payers]]
id = "MCR"
names = ["MEDICARE"]
ref_2u = "12345"
kind = "medicare"
plb_reference_layout = "medicare"
tolerance_percent = 2.5
""",
        )
        settings = load_settings(config_path=path, environ={})
        profile = settings.payer("MCR")
        assert profile is not None
        assert profile.kind is PayerKind.MEDICARE
        assert profile.ref_2u == ("12345",)
        assert profile.tolerance_percent == Decimal("2.5")
        assert settings.payer("NOPE") is None

    def test_config_hash_changes_with_rules_not_with_url(self, tmp_path: Path) -> None:
        """The run's configuration hash follows what changes results."""
        base = Settings().config_hash()
        url_only = load_settings(
            environ={}, cwd=tmp_path, database_url="sqlite:///o.db"
        )
        assert url_only.config_hash() == base
        path = write(tmp_path, "[matching]\ntolerance_cents = 5\n")
        assert load_settings(config_path=path, environ={}).config_hash() != base

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (
                "[matching]\ntolerance_cents = -1\n",
                "[matching] tolerance_cents must be at least 0",
            ),
            ("[matching]\ntolerance_cents = 'ten'\n", "must be a whole number"),
            (
                "[matching]\ntolerence_cents = 5\n",
                "tolerence_cents is not a known setting",
            ),
            ("[nonsense]\nx = 1\n", "nonsense is not a known setting"),
            ("[practice]\ntime_zone = 'Mars/Olympus'\n", "is not an IANA time zone"),
            ("[practice]\nstate = 'Texas'\n", "[practice] state has an invalid value"),
            ("[matching]\ntolerance_percent = 101\n", "must be between 0 and 100"),
            ("[[payers]]\nkind = 'medicare'\n", "id is required"),
            ("[[payers]]\nid = 'A'\nkind = 'military'\n", "must be one of medicare"),
            ("[[payers]]\nid = 'A'\n[[payers]]\nid = 'A'\n", "repeats payer 'A'"),
            ("[schedule]\ntime = '25:00'\n", "[schedule] time has an invalid value"),
            ("[reports]\nfile_name = 'x-{who}.xlsx'\n", "may only use {run_id}"),
            ("[sources.claims.columns]\nclaim = 'Claim #'\n", "is not a claims column"),
            ("[sources.bills]\ndate_format = '%Y'\n", "bills is not a source"),
            ("[refunds.patient_due_days_by_state]\nTexas = 30\n", "two-letter"),
            ("this is not toml", "is not valid TOML"),
        ],
    )
    def test_bad_values_name_file_and_key(
        self, tmp_path: Path, text: str, message: str
    ) -> None:
        """Every bad value raises one ConfigError naming the file and the key."""
        path = write(tmp_path, text)
        with pytest.raises(ConfigError) as error:
            load_settings(config_path=path, environ={})
        assert message in str(error.value)
        assert error.value.exit_code == 2

    def test_missing_named_file(self, tmp_path: Path) -> None:
        """A config file named explicitly must exist."""
        with pytest.raises(ConfigError, match="does not exist"):
            load_settings(config_path=tmp_path / "nope.toml", environ={})
        with pytest.raises(ConfigError, match="does not exist"):
            load_settings(environ={"RECONCILE_CONFIG": str(tmp_path / "nope.toml")})
