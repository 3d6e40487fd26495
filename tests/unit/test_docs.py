"""The documentation names every exception kind and every configuration key, and the
configuration page's Default column says what the code's defaults are."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from reconcile.categories import ExceptionKind
from reconcile.kinds import KINDS
from reconcile.settings import (
    PayerProfile,
    Settings,
    SourceSettings,
    settings_as_toml_keys,
)

ROOT = Path(__file__).resolve().parents[2]
CONFIG_PAGE = ROOT / "docs" / "configuration.md"

#: Defaults the page puts in words, with the value each word stands for.
WORDED: dict[tuple[str, str], tuple[str, object]] = {
    ("schedule", "time_zone"): ("the practice's", ""),
    ("payers", "state"): ("practice state", ""),
    ("sources", "columns"): ("canonical names", {}),
}


def code_keys() -> dict[tuple[str, str], object]:
    """Every configuration key (``[[payers]]`` and ``[sources.*]`` included) and its
    built-in default, as TOML would spell it."""
    data = settings_as_toml_keys(Settings())
    keys: dict[tuple[str, str], object] = {
        (section, key): value
        for section, values in data.items()
        if section not in ("payers", "sources")
        for key, value in values.items()
    }
    payer = settings_as_toml_keys(PayerProfile(id=""))  # type: ignore[arg-type]
    keys.update({("payers", key): value for key, value in payer.items()})
    source = settings_as_toml_keys(SourceSettings())  # type: ignore[arg-type]
    keys.update({("sources", key): value for key, value in source.items()})
    return keys


def _cells(line: str) -> list[str]:
    """The cells of a Markdown table row (``\\|`` is a pipe inside a cell)."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def _key(token: str) -> tuple[str, str]:
    """``[matching] tolerance_cents``, ``[[payers]] kind``, ``[sources.…] date_format``
    or ``[refunds.patient_due_days_by_state]`` → (section, key)."""
    table, _, key = token.partition(" ")
    path = table.strip("[]").split(".")
    if key:
        return path[0], key
    return path[0], path[-1]


def documented() -> Iterator[tuple[tuple[str, str], str]]:
    """(section, key) and the Default cell of every row of the configuration page."""
    for line in CONFIG_PAGE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        key_cell, default, _what = _cells(line)
        # "`[[payers]] names`, `ref_2u`, `trn03`": keys of one section, one row.
        listed = re.match(r"`[^`]+`(?:, `[^`]+`)*", key_cell)
        assert listed, line
        first, *more = re.findall(r"`([^`]+)`", listed.group())
        section, key = _key(first)
        keys = [key, *more]
        # "`state`, `exempt_from_state_rules`" | "practice state, `false`": one each.
        defaults = [d.strip() for d in default.split(", ")]
        if len(keys) == 1 or len(defaults) != len(keys):
            defaults = [default] * len(keys)
        for name, value in zip(keys, defaults, strict=True):
            yield (section, name), value


def spelled(value: object) -> str:
    """A default as the page writes it."""
    if value is None:
        return "the global values"  # a per-payer override of the global value
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, int | Decimal):
        return f"`{value}`"
    if isinstance(value, str):
        return f"`{value}`" if value else "empty"
    if isinstance(value, list):
        return f"`{json.dumps(value)}`" if value else "—"
    if isinstance(value, Mapping):
        return ", ".join(f"`{k} = {v}`" for k, v in value.items()) if value else "—"
    raise TypeError(value)


def spelled_state_rules(rules: Mapping[str, Mapping[str, Any]]) -> str:
    """The state look-back rules as the page writes them."""
    words = {
        "lookback_months": "{} months look-back",
        "notice_within_days": "notice within {} days",
        "no_offset_before_days": "no offset before day {}",
    }
    return "; ".join(
        f"`{state}`: "
        + ", ".join(words[k].format(v) for k, v in rule.items() if v is not None)
        for state, rule in rules.items()
    )


class TestDocs:
    def test_every_kind_is_documented_and_titled(self) -> None:
        """docs/exceptions.md has a row per kind, and every kind has a title."""
        text = (ROOT / "docs" / "exceptions.md").read_text(encoding="utf-8")
        for kind in ExceptionKind:
            assert f"| `{kind}` |" in text, kind
            assert kind in KINDS

    def test_every_setting_is_in_the_shipped_config(self) -> None:
        """config/reconcile.toml mentions every key the settings know, the keys of a
        payer profile and of a tabular source included (in its commented examples)."""
        text = (ROOT / "config" / "reconcile.toml").read_text(encoding="utf-8")
        for (section, key), _ in code_keys().items():
            if section in ("payers", "sources"):
                assert f"[{section}" in text, section
                assert re.search(rf"^# {key} =|\.{key}\]", text, re.M), (section, key)
                continue
            assert f"[{section}]" in text, section
            assert f"{key} =" in text or f"[{section}.{key}" in text, (section, key)


class TestConfigurationPage:
    def test_every_key_has_a_row(self) -> None:
        """docs/configuration.md has a row for every key, payers and sources too."""
        rows = dict(documented())
        missing = set(code_keys()) - set(rows)
        assert not missing

    def test_every_row_names_a_real_key(self) -> None:
        """The page documents no key the settings do not know."""
        unknown = {key for key, _ in documented()} - set(code_keys())
        assert not unknown

    @pytest.mark.parametrize(
        ("key", "default"),
        list(documented()),
        ids=[".".join(k) for k, _ in documented()],
    )
    def test_default_column_matches_the_code(
        self, key: tuple[str, str], default: str
    ) -> None:
        """Each Default cell says the built-in default, in code or in plain words."""
        value = code_keys()[key]
        if key in WORDED:
            words, stands_for = WORDED[key]
            assert (default, value) == (words, stands_for)
        elif key == ("payers", "id"):
            field = next(f for f in dataclasses.fields(PayerProfile) if f.name == "id")
            assert field.default is dataclasses.MISSING  # required: no default
            assert default == "—"
        elif key == ("recoupments", "state_rules"):
            assert isinstance(value, Mapping)
            assert default == spelled_state_rules(value)
        else:
            assert default == spelled(value)
