"""[sources.*] settings: column maps, formats, ledger kind words, example maps."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.settings import AmountFormat, ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "r.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(config_path=path, environ={})


class TestSources:
    def test_ledger_kind_words(self, tmp_path: Path) -> None:
        """[sources.ledger.kinds] maps the system's words to canonical kinds."""
        settings = load(
            tmp_path, '[sources.ledger.kinds]\n"Ins Pmt" = "insurance_payment"\n'
        )
        assert settings.sources["ledger"].kinds == {"Ins Pmt": "insurance_payment"}
        assert settings.sources["claims"].kinds == {}

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (
                '[sources.ledger.kinds]\n"Ins Pmt" = "payment"\n',
                "[sources.ledger.kinds] 'Ins Pmt' must be one of insurance_payment",
            ),
            (
                '[sources.claims.kinds]\n"X" = "refund"\n',
                "[sources.claims] kinds is only used by the ledger source",
            ),
            ("[sources.claims]\ndate_format = '%Y'\n", "is not a usable date format"),
            (
                "[sources.claims]\ndate_format = '%m/%Y'\n",
                "is not a usable date format",
            ),
            (
                "[sources.claims]\ndate_format = '%H:%M'\n",
                "is not a usable date format",
            ),
            ("[sources.claims]\namount_format = 'euro'\n", "must be one of plain"),
        ],
    )
    def test_bad_source_settings(self, tmp_path: Path, text: str, message: str) -> None:
        """Unusable source settings are configuration errors naming the key."""
        with pytest.raises(ConfigError) as error:
            load(tmp_path, text)
        assert message in str(error.value)

    @pytest.mark.parametrize("date_format", ["%m/%d/%Y", "%d.%m.%y", "%Y%j", "excel"])
    def test_usable_date_formats(self, tmp_path: Path, date_format: str) -> None:
        """Formats with a year, month and day (or day of year) are accepted."""
        settings = load(
            tmp_path, f"[sources.deposits]\ndate_format = '{date_format}'\n"
        )
        assert settings.sources["deposits"].date_format == date_format


class TestExampleMaps:
    @pytest.mark.parametrize("name", ["advancedmd", "tebra"])
    def test_examples_load_and_map_every_source(self, name: str) -> None:
        """Each shipped example is a complete, valid configuration."""
        settings = load_settings(
            config_path=ROOT / "config" / "examples" / f"{name}.toml", environ={}
        )
        for source in ("claims", "deposits", "patient_payments", "ledger"):
            assert settings.sources[source].columns, source
            assert settings.sources[source].amount_format is AmountFormat.ACCOUNTING
        assert settings.sources["ledger"].kinds
