"""`telewarden screen|optin|lists|policy` end to end, against a temporary TELEWARDEN_HOME."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from telewarden.adapters.storage.sql import SqlStore
from telewarden.cli.main import app, main
from telewarden.core.errors import ConfigurationError, InvalidInputError, NotFoundError
from telewarden.core.screening import ListKind

HK = "+85223456789"
CALLEE = "13800138000"


@pytest.fixture
def pg_home(home: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str) -> Iterator[str]:
    """TELEWARDEN_DATABASE_URL pointing at a fresh PostgreSQL schema, dropped afterwards."""
    schema = f"tw_cli_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"create schema {schema}")
    url = f"{postgres_url}?options=-csearch_path%3D{schema}"
    monkeypatch.setenv("TELEWARDEN_DATABASE_URL", url)
    monkeypatch.setenv("TELEWARDEN_NUMBER_KEY", "1:test-number-key-shared-by-every-host-0123456789")
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"drop schema if exists {schema} cascade")
        admin.dispose()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _ok(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def _screen(runner: CliRunner, *args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_ok(runner, "screen", *args, "--json"))
    return data


def test_acceptance_sequence_of_issue_2(home: Path, runner: CliRunner) -> None:
    blocked = _screen(runner, "call", "--caller", HK, "--callee", CALLEE)
    assert blocked["verdict"] == "block"
    assert blocked["reason"] == "cross_border_default_block"
    assert {"verdict", "reason", "sip_status", "origin", "trace"} <= set(blocked)
    assert blocked["sip_status"] == 603
    assert isinstance(blocked["trace"], list) and blocked["trace"]

    assert "opted in" in _ok(runner, "optin", "add", CALLEE, "--scope", "calls")
    allowed = _screen(runner, "call", "--caller", HK, "--callee", CALLEE)
    assert (allowed["verdict"], allowed["origin"]) == ("allow_labelled", "Hong Kong")

    spoofed = _screen(
        runner, "call", "--caller", "+8613800138001", "--callee", CALLEE,
        "--ingress", "international",
    )  # fmt: skip
    assert (spoofed["verdict"], spoofed["reason"]) == (
        "block",
        "spoofed_domestic_on_international",
    )
    police = _screen(
        runner, "call", "--caller", "110", "--callee", CALLEE, "--ingress", "international"
    )
    assert (police["verdict"], police["reason"]) == ("block", "service_number_impersonation")
    assert (home / "telewarden.db").is_file()


@pytest.mark.parametrize("emergency", ["110", "120"])
def test_calls_to_emergency_numbers_are_never_blocked_even_when_deny_listed(
    home: Path, runner: CliRunner, emergency: str
) -> None:
    _ok(runner, "lists", "add", "deny", emergency, "--reason", "misconfigured feed")
    _ok(runner, "lists", "add", "deny", "+852*", "--match", "prefix")
    for caller, ingress in ((HK, "international"), ("+8613800138001", "international")):
        decision = _screen(
            runner, "call", "--caller", caller, "--callee", emergency, "--ingress", ingress
        )
        assert decision["verdict"] != "block", decision["reason"]


def test_sms_accepts_caller_and_callee_aliases_and_logs_each_screen(
    home: Path, runner: CliRunner
) -> None:
    by_name = _screen(runner, "sms", "--sender", HK, "--recipient", CALLEE, "--text", "hi")
    by_alias = _screen(runner, "sms", "--caller", HK, "--callee", CALLEE)
    assert by_name["reason"] == by_alias["reason"] == "cross_border_default_block"
    _ok(runner, "optin", "add", CALLEE, "--scope", "sms")
    assert _screen(runner, "sms", "--caller", HK, "--callee", CALLEE)["verdict"] != "block"
    store = SqlStore.open(f"sqlite:///{home / 'telewarden.db'}")
    try:
        logged = store.recent_decisions(limit=10)
    finally:
        store.close()
    assert len(logged) == 3
    assert all(r.event["channel"] == "sms" for r in logged)


@pytest.mark.parametrize("caller", ["", "not a number", "+86"], ids=["blank", "words", "cc-only"])
def test_an_unusable_caller_id_gets_a_verdict_with_a_reason_not_an_error(
    home: Path, runner: CliRunner, caller: str
) -> None:
    decision = _screen(
        runner, "call", "--caller", caller, "--callee", CALLEE, "--ingress", "domestic"
    )
    assert decision["verdict"] == "block"
    assert decision["reason"] in {"unparseable_caller_id", "invalid_caller_id"}


def test_screen_call_prints_a_readable_verdict(home: Path, runner: CliRunner) -> None:
    out = _ok(runner, "screen", "call", "--caller", HK, "--callee", CALLEE)
    for text in ("Verdict", "block", "cross_border_default_block", "Hong Kong", "603", "trace"):
        assert text in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["optin", "add", CALLEE, "--scope", "everything"], "--scope", id="bad-scope"),
        pytest.param(
            ["screen", "call", "--caller", HK, "--callee", CALLEE, "--at", "yesterday"],
            "ISO-8601",
            id="bad-time",
        ),
        pytest.param(
            ["screen", "call", "--caller", HK, "--callee", CALLEE, "--ingress", "moon"],
            "--ingress",
            id="bad-ingress",
        ),
        pytest.param(["screen", "file", "absent.csv", "--output", "v.csv"], "no such", id="file"),
        pytest.param(["lists", "import", "deny", "absent.csv"], "no such file", id="list-file"),
        pytest.param(["lists", "show", "grey"], "deny or allow", id="bad-list"),
        pytest.param(["optin", "add", "not-a-number"], "not a subscriber", id="bad-msisdn"),
        pytest.param(["policy", "set", "colour", "red"], "unknown policy key", id="bad-key"),
        pytest.param(
            ["policy", "set", "cross_border_block_sms", "perhaps"], "invalid value", id="bad-bool"
        ),
    ],
)
def test_invalid_input_is_an_invalid_input_error(
    home: Path, runner: CliRunner, args: list[str], message: str
) -> None:
    result = runner.invoke(app, args)
    assert isinstance(result.exception, InvalidInputError), result.output
    assert message in str(result.exception)


def test_main_renders_invalid_input_as_one_line_and_exit_code_2(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        sys, "argv", ["telewarden", "optin", "add", CALLEE, "--scope", "everything"]
    )
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "error:" in err and "Traceback" not in err


def test_optin_show_and_remove(home: Path, runner: CliRunner) -> None:
    assert "no opt-in records" in _ok(runner, "optin", "show", CALLEE)
    _ok(runner, "optin", "add", CALLEE, "--scope", "both", "--actor", "agent-7")
    shown = json.loads(_ok(runner, "optin", "show", "+86 138 0013 8000", "--json"))
    assert shown["msisdn"] == "+8613800138000"
    assert [o["scope"] for o in shown["optins"]] == ["both"]
    _ok(runner, "optin", "remove", CALLEE)
    result = runner.invoke(app, ["optin", "remove", CALLEE])
    assert isinstance(result.exception, NotFoundError)
    store = SqlStore.open(f"sqlite:///{home / 'telewarden.db'}")
    try:
        audit = store.audit_log(entity="optin")
    finally:
        store.close()
    assert [(r.action, r.actor) for r in audit][-1] == ("create", "agent-7")
    assert audit[0].action == "delete" and audit[0].after is None


def test_list_import_reconciles_and_quarantines_bad_rows(
    home: Path, runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "deny.csv"
    path.write_text(
        "pattern,match,source,reason\n"
        "13800138001,,police,fraud\n"
        "17012*,,miit,virtual operator range\n"
        "not-a-number,,x,y\n"
        "13800138001,,police,again\n"
        "+86,prefix,x,y\n"
    )
    out = _ok(runner, "lists", "import", "deny", str(path))
    assert "read 5 = imported 3 + quarantined 2" in out
    assert "new 2 + replaced 0 + repeated in the file 1" in out
    quarantine = tmp_path / "deny.quarantine.csv"
    lines = [row.split(",")[0] for row in quarantine.read_text().splitlines()[1:]]
    assert lines == ["4", "6"]
    counts = json.loads(_ok(runner, "lists", "count", "--json"))
    assert counts == {"deny": 2, "allow": 0}
    shown = json.loads(_ok(runner, "lists", "show", "deny", "--json"))
    assert [e["pattern"] for e in shown] == ["+8613800138001", "+8617012"]
    assert shown[0]["reason"] == "again"
    again = json.loads(_ok(runner, "lists", "import", "deny", str(path), "--json"))
    assert again["reconciles"] and (again["inserted"], again["updated"]) == (0, 2)
    decision = _screen(runner, "call", "--caller", "17012345678", "--callee", CALLEE)
    assert decision["reason"] == "deny_listed_prefix"
    _ok(runner, "lists", "remove", "deny", "17012*")
    assert _ok(runner, "lists", "count", "deny").strip() == "deny: 1"


def test_policy_set_is_validated_versioned_and_applied(home: Path, runner: CliRunner) -> None:
    _ok(runner, "policy", "set", "cross_border_block_sms", "false", "--actor", "ops")
    _ok(runner, "policy", "set", "region_overrides.Beijing.cross_border_block_calls", "false")
    shown = json.loads(_ok(runner, "policy", "show", "--json"))
    assert shown["version"] == 2
    assert shown["policy"]["cross_border_block_sms"] is False
    assert shown["policy"]["region_overrides"] == {
        "Beijing": {"cross_border_block_calls": False, "cross_border_block_sms": None}
    }
    assert "region_overrides.Beijing" in _ok(runner, "policy", "show")
    history = json.loads(_ok(runner, "policy", "history", "--json"))
    assert [h["actor"] for h in history][-1] == "ops"
    assert history[-1]["before"]["cross_border_block_sms"] is True
    # 13800138000 is a Beijing mobile, so the override lifts the call block there.
    decision = _screen(runner, "call", "--caller", HK, "--callee", CALLEE)
    assert decision["verdict"] != "block"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_screen_file_prints_counts_that_reconcile_and_a_summary(
    home: Path, runner: CliRunner, tmp_path: Path, suffix: str
) -> None:
    events = tmp_path / f"events{suffix}"
    frame = pl.DataFrame(
        {
            "caller": [HK, "110", "13900139000", "13900139000"],
            "callee": [CALLEE, CALLEE, CALLEE, None],
            "ingress": ["international", "international", "domestic", "domestic"],
        }
    )
    if suffix == ".csv":
        frame.write_csv(events)
    else:
        frame.write_parquet(events)
    output = tmp_path / "verdicts.csv"
    out = _ok(runner, "screen", "file", str(events), "--output", str(output))
    assert "read 4 = screened 3 + quarantined 1" in out
    assert "throughput:" in out and "events/s" in out
    assert "cross_border_default_block" in out and "Verdict summary" in out
    assert pl.read_csv(output).height == 3
    summary = json.loads(_ok(runner, "screen", "file", str(events), "-o", str(output), "--json"))
    assert summary["by_verdict"] == {"block": 2, "allow": 1}
    assert summary["quarantine"].endswith("verdicts.quarantine.csv")
    store = SqlStore.open(f"sqlite:///{home / 'telewarden.db'}")
    try:
        batches = store.recent_batches()
    finally:
        store.close()
    assert len(batches) == 2 and batches[0].rows_read == 4


def test_the_content_inspection_setting_is_a_legal_gate_over_the_stored_policy(
    home: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ("sms", "--sender", "10690000", "--recipient", CALLEE, "--text", "点击链接领取奖金")
    monkeypatch.setenv("TELEWARDEN_CONTENT_INSPECTION", "false")
    gated = _screen(runner, *args)
    trace = {t["rule"]: t for t in gated["trace"]}
    assert "legal gate" in trace["content"]["detail"]
    # The process setting can only close the gate: "true" does not open a stored closed gate.
    monkeypatch.setenv("TELEWARDEN_CONTENT_INSPECTION", "true")
    still = {t["rule"]: t for t in _screen(runner, *args)["trace"]}
    assert "legal gate" in still["content"]["detail"]
    basis = "AFL Art. 25/32; legal review ref LR-2026-15"
    _ok(runner, "policy", "set", "content_inspection", "true", "--legal-basis", basis)
    open_ = {t["rule"]: t for t in _screen(runner, *args)["trace"]}
    assert "legal gate" not in open_["content"]["detail"]
    _ok(runner, "policy", "set", "content_inspection", "false")  # a supervisor closes it again
    closed = {t["rule"]: t for t in _screen(runner, *args)["trace"]}
    assert "legal gate" in closed["content"]["detail"]


def test_screen_sms_reads_no_content_until_the_gate_is_opened_with_a_basis(
    home: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELEWARDEN_CONTENT_INSPECTION", raising=False)
    args = ("sms", "--sender", "10690000", "--recipient", CALLEE, "--text", "点击链接领取奖金")
    closed = {t["rule"]: t for t in _screen(runner, *args)["trace"]}
    assert "legal gate" in closed["content"]["detail"]
    assert "content_legal_basis" in closed["content"]["detail"]  # how to open it
    basis = "AFL Art. 25/32; legal review ref LR-2026-14"
    _ok(runner, "policy", "set", "content_inspection", "true", "--legal-basis", basis)
    opened = {t["rule"]: t for t in _screen(runner, *args)["trace"]}
    assert "legal gate" not in opened["content"]["detail"]
    monkeypatch.setenv("TELEWARDEN_CONTENT_INSPECTION", "false")  # the deployment closes it
    again = {t["rule"]: t for t in _screen(runner, *args)["trace"]}
    assert "legal gate" in again["content"]["detail"]


@pytest.mark.integration
def test_the_store_is_postgresql_when_a_database_url_is_given(
    pg_home: str, runner: CliRunner, tmp_path: Path
) -> None:
    assert _screen(runner, "call", "--caller", HK, "--callee", CALLEE)["verdict"] == "block"
    _ok(runner, "optin", "add", CALLEE, "--scope", "calls")
    assert _screen(runner, "call", "--caller", HK, "--callee", CALLEE)["verdict"] == (
        "allow_labelled"
    )
    path = tmp_path / "deny.csv"
    path.write_text("pattern\n+852234*\n13800138001\n13800138001\nbad\n")
    report = json.loads(_ok(runner, "lists", "import", "deny", str(path), "--json"))
    assert (report["rows_read"], report["accepted"], report["quarantined"]) == (4, 3, 1)
    assert (report["inserted"], report["duplicates"], report["reconciles"]) == (2, 1, True)
    assert _screen(runner, "call", "--caller", HK, "--callee", CALLEE)["reason"] == (
        "deny_listed_prefix"
    )
    store = SqlStore.open(pg_home)
    try:
        assert store.dialect == "postgresql"
        assert store.count_entries(ListKind.DENY) == 2
        assert len(store.recent_decisions()) == 3
    finally:
        store.close()


def test_an_unreachable_database_is_a_configuration_error(
    home: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "TELEWARDEN_DATABASE_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:1/none"
    )
    monkeypatch.setenv("TELEWARDEN_NUMBER_KEY", "1:test-number-key-shared-by-every-host-0123456789")
    result = runner.invoke(app, ["policy", "show"])
    assert isinstance(result.exception, ConfigurationError)
    assert "cannot open the store" in str(result.exception)
    assert "secret" not in str(result.exception)


def test_a_chinese_province_name_sets_the_override_the_screener_matches(
    home: Path, runner: CliRunner
) -> None:
    out = _ok(runner, "policy", "set", "region_overrides.北京.cross_border_block_calls", "false")
    assert "Beijing" in out
    shown = json.loads(_ok(runner, "policy", "show", "--json"))
    assert list(shown["policy"]["region_overrides"]) == ["Beijing"]
    assert _screen(runner, "call", "--caller", HK, "--callee", CALLEE)["verdict"] != "block"
