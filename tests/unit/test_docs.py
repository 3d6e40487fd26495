"""The documentation names every exception kind and every configuration key."""

from __future__ import annotations

from pathlib import Path

from reconcile.categories import ExceptionKind
from reconcile.kinds import KINDS
from reconcile.settings import Settings, settings_as_toml_keys

ROOT = Path(__file__).resolve().parents[2]


class TestDocs:
    def test_every_kind_is_documented_and_titled(self) -> None:
        """docs/exceptions.md has a row per kind, and every kind has a title."""
        text = (ROOT / "docs" / "exceptions.md").read_text(encoding="utf-8")
        for kind in ExceptionKind:
            assert f"| `{kind}` |" in text, kind
            assert kind in KINDS

    def test_every_setting_is_in_the_shipped_config(self) -> None:
        """config/reconcile.toml mentions every key the settings know."""
        text = (ROOT / "config" / "reconcile.toml").read_text(encoding="utf-8")
        data = settings_as_toml_keys(Settings())
        for section, values in data.items():
            if section in ("payers", "sources"):
                assert section in text
                continue
            assert f"[{section}]" in text, section
            for key in values:
                assert f"{key} =" in text or f"[{section}.{key}" in text, (section, key)

    def test_configuration_page_names_every_key(self) -> None:
        """docs/configuration.md has a row for every key of every section."""
        text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
        data = settings_as_toml_keys(Settings())
        for section, values in data.items():
            if section in ("payers", "sources"):
                continue
            for key in values:
                assert f"[{section}] {key}" in text or f"[{section}.{key}]" in text, (
                    section,
                    key,
                )
