"""The run, history, exception and queue commands as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from reconcile.cli import main
from tests.factories import make_claim, make_claim_payment, make_payment, make_scenario


def cli(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main, ["--database-url", url, *args], catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def scenario(fresh_engine: Engine, fresh_url: str) -> str:
    """A database with the scenario month loaded."""
    with fresh_engine.begin() as conn:
        make_scenario(conn)
    return fresh_url


class TestRunCommand:
    def test_json_summary_shape(self, scenario: str) -> None:
        """--json prints the DESIGN.md summary: ids, window, kinds, queues."""
        code, out, _ = cli(
            scenario, "run", "--from", "2024-03-01", "--to", "2024-03-31", "--json"
        )
        assert code == 0
        summary = json.loads(out)
        assert {
            "run_id",
            "window",
            "as_of",
            "status",
            "report",
            "exceptions",
            "refunds",
            "recoupments",
        } <= set(summary)
        assert summary["window"] == {"from": "2024-03-01", "to": "2024-03-31"}
        assert summary["status"] == "succeeded"
        assert summary["exceptions"]["underpaid"] == {"count": 1, "amount": "30.00"}
        assert set(summary["refunds"]) == {"created", "open", "amount"}

    def test_text_summary(self, scenario: str) -> None:
        """Without --json a readable table with human titles and kind ids."""
        code, out, _ = cli(
            scenario, "run", "--from", "2024-03-01", "--to", "2024-03-31"
        )
        assert code == 0
        assert "Underpaid claims (underpaid)" in out
        assert "30.00" in out

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (
                ("--from", "2024-03-31", "--to", "2024-03-01"),
                "starts on 2024-03-31 after",
            ),
            (("--from", "2024-02-30", "--to", "2024-03-01"), "is not a date"),
            (("--from", "yesterday", "--to", "2024-03-01"), "is not a date"),
        ],
    )
    def test_bad_windows_exit_2(
        self, scenario: str, args: tuple[str, ...], message: str
    ) -> None:
        """A reversed window or a malformed date is a usage error, exit 2."""
        code, out, err = cli(scenario, "run", *args)
        assert code == 2
        assert message in err
        assert "Traceback" not in out + err


class TestHistoryAndLists:
    def test_runs_list_and_show(self, scenario: str) -> None:
        """The run history shows windows, statuses, rule counts and timings."""
        cli(scenario, "run", "--from", "2024-03-01", "--to", "2024-03-31")
        code, out, _ = cli(scenario, "runs", "list", "--json")
        runs = json.loads(out)
        assert code == 0
        assert runs[0]["status"] == "succeeded"
        code, out, _ = cli(scenario, "runs", "show", str(runs[0]["id"]))
        assert code == 0
        assert "claim_remit_clp01" in out
        assert "Timings:" in out
        code, _, err = cli(scenario, "runs", "show", "999")
        assert code == 1
        assert "there is no run 999" in err

    def test_exceptions_list_fields(self, scenario: str) -> None:
        """Each item carries the DESIGN.md list fields; amounts are dollar strings."""
        cli(scenario, "run", "--from", "2024-03-01", "--to", "2024-03-31")
        code, out, _ = cli(scenario, "exceptions", "list", "--kind", "denied", "--json")
        [item] = json.loads(out)
        assert code == 0
        assert {
            "id",
            "fingerprint",
            "kind",
            "status",
            "claim_id",
            "payer_id",
            "amount",
            "identified_on",
            "age_days",
            "codes",
        } <= set(item)
        assert item["amount"] == "150.00"
        assert item["codes"].startswith("CO-50 Not deemed a medical necessity")
        code, out, _ = cli(scenario, "exceptions", "list")
        assert "denied" in out


class TestQueueCommands:
    def _overpaid(self, engine: Engine, url: str) -> None:
        with engine.begin() as conn:
            make_claim(conn, claim_id="OVR")
            payment = make_payment(conn)
            make_claim_payment(
                conn, payment_id=payment, claim_id="OVR", paid_cents=15_000
            )
        assert cli(url, "run", "--from", "2024-03-01", "--to", "2024-03-31")[0] == 0

    def test_refund_workflow(self, fresh_engine: Engine, fresh_url: str) -> None:
        """List, approve, issue; an invalid move exits 1 and changes nothing."""
        self._overpaid(fresh_engine, fresh_url)
        code, out, _ = cli(fresh_url, "refunds", "list", "--json")
        [refund] = json.loads(out)
        assert refund["amount"] == "50.00"
        assert refund["due_on"] == "2024-04-30"
        rid = str(refund["id"])
        code, _, err = cli(
            fresh_url, "refunds", "issue", rid, "--reference", "C1", "--by", "ann"
        )
        assert code == 1
        assert "needs it to be approved" in err
        assert cli(fresh_url, "refunds", "approve", rid, "--by", "ann")[0] == 0
        code, out, _ = cli(
            fresh_url, "refunds", "issue", rid, "--reference", "C1", "--by", "ann"
        )
        assert code == 0
        assert "now issued" in out
        code, out, _ = cli(fresh_url, "audit", "verify")
        assert code == 0
        assert "intact: 3 events" in out

    def test_recoupment_notice_and_dispute(
        self, fresh_engine: Engine, fresh_url: str
    ) -> None:
        """A notice is recorded with its deadline and can be disputed."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="N1")
        code, out, _ = cli(
            fresh_url,
            "recoupments",
            "add",
            "--payer",
            "AETNA",
            "--claim",
            "N1",
            "--amount",
            "120.00",
            "--notice-date",
            "2024-03-01",
            "--reference",
            "FCN1",
            "--by",
            "ann",
        )
        assert code == 0
        assert "respond by 2024-03-31" in out
        code, _, err = cli(fresh_url, "recoupments", "dispute", "1", "--by", "ann")
        assert code == 2  # --reason is required: a usage error
        code, out, _ = cli(
            fresh_url,
            "recoupments",
            "dispute",
            "1",
            "--reason",
            "no overpayment",
            "--by",
            "ann",
        )
        assert code == 0
        code, out, _ = cli(fresh_url, "recoupments", "list", "--json")
        assert json.loads(out)[0]["status"] == "disputed"
        code, _, err = cli(
            fresh_url,
            "recoupments",
            "add",
            "--payer",
            "AETNA",
            "--amount",
            "1.001",
            "--notice-date",
            "2024-03-01",
            "--by",
            "ann",
        )
        assert code == 2
        assert "more than 2 decimals" in err

    def test_audit_verify_detects_tampering(
        self, fresh_engine: Engine, fresh_url: str, tmp_path: Path
    ) -> None:
        """An edited event makes audit verify exit 1 with the event named."""
        self._overpaid(fresh_engine, fresh_url)
        with fresh_engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")
            else:
                conn.exec_driver_sql("DROP TRIGGER audit_event_no_update")
            conn.exec_driver_sql("UPDATE audit_event SET actor = 'mallory'")
        code, _, err = cli(fresh_url, "audit", "verify")
        assert code == 1
        assert "its content was changed" in err
