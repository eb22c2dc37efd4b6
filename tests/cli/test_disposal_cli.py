"""`telewarden cases|measures|accounts|cascade|audit` end to end on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from telewarden.cli.main import app

SIMBANK = "+8613800000001"
SIBLING = "+8613800000002"
OFFNET = "+447700900123"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("TELEWARDEN_HOME", str(home))
    monkeypatch.delenv("TELEWARDEN_DATABASE_URL", raising=False)
    monkeypatch.delenv("TELEWARDEN_CONFIG", raising=False)
    monkeypatch.delenv("TELEWARDEN_HASH_KEY", raising=False)
    return home


@pytest.fixture
def pg_url(home: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str) -> Iterator[str]:
    schema = f"tw_dcli_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"create schema {schema}")
    url = f"{postgres_url}?options=-csearch_path%3D{schema}"
    monkeypatch.setenv("TELEWARDEN_DATABASE_URL", url)
    monkeypatch.setenv("TELEWARDEN_HASH_KEY", "a-test-key-shared-by-every-host")
    monkeypatch.setenv("TELEWARDEN_NUMBER_KEY", "1:test-number-key-shared-by-every-host-0123456789")
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"drop schema if exists {schema} cascade")
        admin.dispose()


def _run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


def _seed(tmp_path: Path) -> None:
    """Cards, accounts and detector alerts, loaded and taken through the CLI."""
    subscribers = tmp_path / "subscribers.csv"
    pl.DataFrame(
        {
            "msisdn": [SIMBANK, SIBLING, "not-a-number"],
            "id_doc_hash": ["110101199003078033", "110101199003078033", "x"],
        }
    ).write_csv(subscribers)
    accounts = tmp_path / "accounts.csv"
    pl.DataFrame(
        {
            "platform": ["WeChat", "alipay", ""],
            "account": ["w1", "a1", "b"],
            "msisdn": [SIMBANK] * 3,
        }
    ).write_csv(accounts)
    alerts = tmp_path / "alerts.csv"
    pl.DataFrame(
        {
            "msisdn": [SIMBANK, OFFNET],
            "detector": ["sim_bank_imei", "wangiri"],
            "flagged_at": ["2026-12-01T08:00:00+00:00", "2026-12-01T08:05:00+00:00"],
            "attempts": [3, 5],
            "reason": ["4 IMSIs on one IMEI", "5 short rings"],
        }
    ).write_csv(alerts)
    assert "2 cards taken of 3 rows (1 malformed)" in _run(
        "cases", "import-cards", str(subscribers)
    )
    assert "2 accounts taken of 3 rows (1 malformed)" in _run("accounts", "import", str(accounts))
    report = json.loads(_run("cases", "intake", str(alerts), "--json"))
    assert (report["taken"], report["not_our_cards"], report["reconciles"]) == (1, 1, True)
    assert report["by_kind"] == {"reverify": 1} and report["cascade_messages"] == 2


def _case_flow() -> None:
    (case,) = json.loads(_run("cases", "list", "--json"))["cases"]
    check = json.loads(_run("measures", "check", SIMBANK, "--json"))
    assert check["restricted"] and check["blocks_outgoing_calls"] and not check["blocks_incoming"]
    assert "appeal:" in check["sip_reason"]
    shown = _run("cases", "show", case["id"], "--notices")
    assert "救济渠道" in shown and "Remedy channel" in shown
    _run("cases", "appeal", case["id"], "--grounds", "my own card")
    _run("cases", "appeal", case["id"], "--grounds", "verified owner", "--decide", "upheld")
    assert not json.loads(_run("measures", "check", SIMBANK, "--json"))["restricted"]
    assert json.loads(_run("cases", "show", case["id"], "--json"))["state"] == "cleared"
    status = json.loads(_run("cascade", "status", "--json"))
    assert status == {"pending": 4}  # two disposed, two lifted
    reconcile = json.loads(_run("cascade", "reconcile", "--json"))
    assert reconcile["reconciles"] and reconcile["cards_disposed"] == 1


def test_case_flow_and_audit_tampering_on_sqlite(home: Path, tmp_path: Path) -> None:
    _seed(tmp_path)
    _case_flow()
    assert "audit log intact" in _run("audit", "verify")
    assert (home / "hash.key").stat().st_mode & 0o777 == 0o600
    db = sqlite3.connect(home / "telewarden.db")
    with db:
        db.execute("update audit_log set actor = 'mallory' where id = 4")
    db.close()
    out = _run("audit", "verify", code=1)
    assert "row 4" in out and "edited" in out
    result = json.loads(_run("audit", "verify", "--json", code=1))
    assert result["first_bad_id"] == 4


def test_deleting_an_audit_row_names_the_row_after_it(home: Path, tmp_path: Path) -> None:
    _seed(tmp_path)
    db = sqlite3.connect(home / "telewarden.db")
    with db:
        db.execute("delete from audit_log where id = 2")
    db.close()
    assert json.loads(_run("audit", "verify", "--json", code=1))["first_bad_id"] == 3


def test_case_flow_and_audit_tampering_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    _seed(tmp_path)
    _case_flow()
    assert json.loads(_run("audit", "verify", "--json"))["ok"]
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("update audit_log set after = '{\"rows\": 99}' where id = 2"))
    engine.dispose()
    assert json.loads(_run("audit", "verify", "--json", code=1))["first_bad_id"] == 2


def test_a_shared_database_needs_an_explicit_hash_key(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from telewarden.core.errors import ConfigurationError

    monkeypatch.delenv("TELEWARDEN_HASH_KEY")
    cards = tmp_path / "c.csv"
    pl.DataFrame({"msisdn": [SIMBANK], "id_doc_hash": ["x"]}).write_csv(cards)
    result = CliRunner().invoke(app, ["cases", "import-cards", str(cards)])
    assert isinstance(result.exception, ConfigurationError)
    assert "TELEWARDEN_HASH_KEY" in str(result.exception)


def test_id_level_credit_list_and_police_referral(home: Path, tmp_path: Path) -> None:
    _seed(tmp_path)
    doc = "110101199003078033"
    cards = json.loads(_run("credit", "cards", doc.lower(), "--json"))
    assert sorted(c["msisdn"] for c in cards) == [SIMBANK, SIBLING]
    assert "sale allowed (2 of 5" in _run("credit", "check-sale", doc)
    assert "ID already holds 2 cards" in _run("credit", "check-sale", doc, "--limit", "2", code=1)
    listed = json.loads(
        _run("credit", "list", doc, "--basis", "card_trading", "--term", "3", "--json")
    )
    assert "第三十一条" in listed["notices"]["zh"] and "appeal" in listed["notices"]["en"]
    assert doc not in json.dumps(listed)  # the ID number never leaves in clear
    assert "credit list until" in _run("credit", "check-sale", doc, code=1)
    result = CliRunner().invoke(app, ["credit", "list", doc, "--basis", "fraud", "--term", "3"])
    assert "5 in a row" in str(result.exception)  # 3 + 3 would be 6 consecutive years
    _run("credit", "lift", doc, listed["listing"], "--reason", "credit repaired")
    assert "sale allowed" in _run("credit", "check-sale", doc)

    (case,) = json.loads(_run("cases", "list", "--json"))["cases"]
    packet_path = tmp_path / "packet.json"
    _run("police", "export", case["id"], "-o", str(packet_path))
    packet = json.loads(packet_path.read_text(encoding="utf-8"))
    assert packet["numbers"] == [SIMBANK] and packet["evidence"][0]["source"] == "sim_bank_imei"
    assert [e["event"] for e in packet["timeline"]] == ["flag", "reverify in force"]
    feedback = tmp_path / "feedback.csv"
    feedback.write_text(
        f"case,outcome,note\n{case['id']},confirmed,gang member\nC-missing,not_fraud,\n",
        encoding="utf-8",
    )
    assert "2 rows: 1 confirmed, 0 cleared, 1 rejected" in _run("police", "feedback", str(feedback))
    labels = tmp_path / "labels.csv"
    _run("police", "labels", "-o", str(labels))
    rows = pl.read_csv(labels)
    assert rows.select("msisdn", "label").rows() == [(SIMBANK, 1)]


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]
)
def test_account_and_key_changes_are_linked_into_the_audit_chain(
    backend: str, home: Path, request: pytest.FixtureRequest
) -> None:
    """Every audit write goes through the hash chain: the service store's too (issue #12)."""
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    actor = "ops-" + "x" * 90  # longer than the actor column: the hash covers what is stored
    added = CliRunner().invoke(
        app,
        ["users", "add", "alice", "--password-stdin", "--actor", actor],
        input="a long enough password\n",
    )
    assert added.exit_code == 0, (added.output, added.exception)
    _run("keys", "create", "sbc-guangzhou-1")
    report = json.loads(_run("audit", "verify", "--json"))
    assert report["ok"] and report["entries"] >= 2
    engine = sa.create_engine(url or f"sqlite:///{home / 'telewarden.db'}")
    with engine.begin() as conn:
        user_row = conn.execute(
            sa.text("select id from audit_log where entity = 'user'")
        ).scalar_one()
        conn.execute(
            sa.text("update audit_log set actor = 'mallory' where id = :id"), {"id": user_row}
        )
    engine.dispose()
    tampered = json.loads(_run("audit", "verify", "--json", code=1))
    assert tampered["first_bad_id"] == user_row
