"""What a run records and what ``runs list/show`` and ``exceptions list`` tell of it.

Issue 6: every run records its window, as-of, trigger, status, counts per rule and
kind, timings per stage, configuration hash and report path. DESIGN.md: list items
carry ``id`` (stable across re-runs), ``fingerprint``, ``kind``, ``status``,
``claim_id`` (null when none), ``payer_id``, ``amount`` (≥ 0, 2 decimals) and dates.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from reconcile.cli import main
from reconcile.matching import QUEUE_RULES, RULES
from reconcile.settings import Settings
from tests.factories import make_scenario

MARCH = ("run", "--from", "2024-03-01", "--to", "2024-03-31")
STAGES = {"prepare", "matching", "classify", "queue_postings", "summary", "report"}
AMOUNT = re.compile(r"^\d+\.\d\d$")


def cli(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main, ["--database-url", url, *args], catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


def cli_json(url: str, *args: str) -> Any:
    code, out, err = cli(url, *args, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def scenario(fresh_engine: Engine, fresh_url: str) -> str:
    """A database with the scenario month loaded and run once."""
    with fresh_engine.begin() as conn:
        make_scenario(conn)
    assert cli(fresh_url, *MARCH)[0] == 0
    return fresh_url


class TestRunRecord:
    def test_show_json_has_every_recorded_field(self, scenario: str) -> None:
        """Window, as-of, trigger, status, counts per rule and kind, stage timings,
        the configuration hash and the workbook path."""
        [listed] = cli_json(scenario, "runs", "list")
        shown = cli_json(scenario, "runs", "show", str(listed["id"]))
        assert shown == listed
        assert shown["window"] == {"from": "2024-03-01", "to": "2024-03-31"}
        assert shown["as_of"] == "2024-03-31"
        assert shown["trigger"] == "manual"
        assert shown["status"] == "succeeded"
        assert shown["config_hash"] == Settings().config_hash()
        assert re.fullmatch(r"[0-9a-f]{64}", shown["config_hash"])
        assert Path(shown["report"]).is_file()
        assert shown["summary"]["report"] == shown["report"]
        rules = shown["counts"]["rules"]
        assert set(rules) == {r.rule_id for r in (*RULES, *QUEUE_RULES)}
        assert all(set(v) == {"matched", "ambiguous"} for v in rules.values())
        assert rules["claim_remit_clp01"]["matched"] > 0
        assert shown["counts"]["found"]["underpaid"] == 1
        assert set(shown["timings"]) == STAGES
        assert all(v >= 0 for v in shown["timings"].values())

    def test_show_text_names_what_the_record_holds(self, scenario: str) -> None:
        """The readable view shows trigger, as-of, hash, workbook, rules, kinds and
        timings."""
        [run] = cli_json(scenario, "runs", "list")
        code, out, _ = cli(scenario, "runs", "show", str(run["id"]))
        assert code == 0
        assert "(as of 2024-03-31)" in out
        assert "Trigger: manual" in out
        assert f"Configuration hash: {run['config_hash']}" in out
        assert f"Workbook: {run['report']}" in out
        assert "claim_remit_clp01" in out
        assert re.search(r"underpaid\s+1", out)
        for stage in STAGES:
            assert f"{stage} " in out.split("Timings:")[1]

    def test_list_text_shows_window_and_workbook(self, scenario: str) -> None:
        """One line per run: id, status, trigger, window (its end is the as-of) and
        the workbook."""
        [run] = cli_json(scenario, "runs", "list")
        code, out, _ = cli(scenario, "runs", "list")
        assert code == 0
        [line] = [x for x in out.splitlines() if x.strip().startswith(str(run["id"]))]
        assert "succeeded" in line
        assert "manual" in line
        assert "2024-03-01  2024-03-31" in line
        assert line.endswith(run["report"])


class TestExceptionList:
    def test_items_carry_the_design_fields(self, scenario: str) -> None:
        """Every item: id, fingerprint, kind, status, claim_id, payer_id, amount as a
        non-negative 2-decimal string, and its dates."""
        items = cli_json(scenario, "exceptions", "list")
        assert items
        required = {
            "id", "fingerprint", "kind", "status", "decision", "claim_id",
            "payer_id", "patient_account", "amount", "expected", "paid", "variance",
            "codes", "service_on", "paid_on", "identified_on", "age_days",
        }  # fmt: skip
        for item in items:
            assert required <= set(item), item
            assert AMOUNT.match(item["amount"]), item
            assert item["status"] == "open"
            assert item["identified_on"] == "2024-03-31"
        by_kind = {item["kind"]: item for item in items}
        assert by_kind["deposit_without_era"]["claim_id"] is None
        under = by_kind["underpaid"]
        assert (under["expected"], under["paid"], under["variance"]) == (
            "100.00",
            "70.00",
            "-30.00",
        )
        assert under["claim_id"] == "UNDER"
        assert under["payer_id"] == "AETNA"
        assert under["age_days"] is not None

    def test_ids_and_fingerprints_are_stable_across_reruns(self, scenario: str) -> None:
        """A re-run of the window lists the same items under the same ids."""
        before = cli_json(scenario, "exceptions", "list")
        assert cli(scenario, *MARCH)[0] == 0
        after = cli_json(scenario, "exceptions", "list")

        def key(items: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
            return {(i["id"], i["fingerprint"], i["kind"], i["amount"]) for i in items}

        assert key(after) == key(before)

    def test_filters_by_run_kind_and_status(self, scenario: str) -> None:
        """``--run`` lists what that run's workbook lists, ``--kind`` one kind,
        ``--status resolved`` what a later run resolved."""
        [run] = cli_json(scenario, "runs", "list")
        everything = cli_json(scenario, "exceptions", "list")
        by_run = cli_json(scenario, "exceptions", "list", "--run", str(run["id"]))
        assert {i["id"] for i in by_run} == {i["id"] for i in everything}
        denied = cli_json(scenario, "exceptions", "list", "--kind", "denied")
        assert [i["claim_id"] for i in denied] == ["DENY"]
        assert cli_json(scenario, "exceptions", "list", "--status", "resolved") == []
        code, _, err = cli(scenario, "exceptions", "list", "--run", "999")
        assert code == 1
        assert "there is no run 999" in err
