"""Shared fixtures: a real PostgreSQL URL for integration tests, the shared data folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TELEWARDEN_SHARED_DATA", ROOT.parent / "shared" / "data"))
POSTGRES_URL = os.environ.get(
    "TELEWARDEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A reachable PostgreSQL URL; skips locally when none runs, fails under CI=true."""
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as exc:  # any driver error means "no server here"
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {POSTGRES_URL}: {exc}")
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL}: {exc}")
    return POSTGRES_URL


@pytest.fixture
def fresh_pg_url(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a schema of its own for one test, dropped after."""
    import uuid

    import sqlalchemy as sa

    schema = f"tw_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"create schema {schema}")
    try:
        yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"drop schema if exists {schema} cascade")
        admin.dispose()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The outside data sets; skips with a clear message when they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set TELEWARDEN_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def small_sms_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated data folder laid out as ../shared/data, with small zh_sms and uci_sms sets.

    Enough messages for a 2-fold evaluation and a default-model fit in seconds; the figures
    measured on it mean nothing, the commands' plumbing is what it tests.
    """
    import random

    rng = random.Random(0)
    zh_ham = ["我今晚不回家吃饭", "明天早上八点开会", "周末一起去爬山吧", "记得带伞", "到家了吗"]
    zh_spam = [
        "全场五折优惠点击领取",
        "楼盘特价欢迎来电",
        "回复TD退订",
        "贷款无抵押秒批",
        "中奖请登录",
    ]
    en_ham = ["see you later", "call me when home", "running late sorry", "dinner at eight?"]
    en_spam = ["FREE prize text WIN now", "claim your cash award", "txt STOP to 80082", "urgent!"]
    root = tmp_path_factory.mktemp("shared_data")

    def write(path: Path, header: str, rows: list[tuple[str, str]]) -> None:
        path.parent.mkdir(parents=True)
        path.write_text("\n".join([header, *("\t".join(r) for r in rows)]) + "\n", "utf-8")

    def messages(words: list[str], n: int) -> list[str]:
        return [" ".join(rng.sample(words, 2)) + f" {rng.randint(0, 9999)}" for _ in range(n)]

    zh = [("0", t) for t in messages(zh_ham, 60)] + [("1", t) for t in messages(zh_spam, 40)]
    en = [("ham", t) for t in messages(en_ham, 60)] + [("spam", t) for t in messages(en_spam, 40)]
    write(root / "zh_sms" / "zh_sms.tsv", "label\ttext", zh)
    write(root / "uci_sms" / "SMSSpamCollection.tsv", "label\ttext", en)
    return root


def write_simulation(out: Path, config: object, *, truth: bool = False) -> Path:
    """Simulate ``config`` (a ``SimConfig``) into ``out`` as records: calls, SMS, subscribers,
    opt-ins and cells, as `telewarden sim` writes them (with ``truth``, the truth tables too);
    the live-loop tests' day."""
    from telewarden.adapters.records_io import TableWriter
    from telewarden.core.sim import SimConfig, Simulation

    assert isinstance(config, SimConfig)
    simulation = Simulation(config)
    with TableWriter(out) as writer:
        for chunk in simulation.chunks():
            writer.write("calls", chunk.calls)
            writer.write("sms", chunk.sms)
            if truth:
                writer.write("truth_events", chunk.truth_events)
                writer.write("truth_victims", chunk.truth_victims)
        writer.write("subscribers", simulation.subscribers())
        writer.write("optins", simulation.optins())
        writer.write("cells", simulation.cells())
        if truth:
            writer.write("truth_cards", simulation.truth_cards())
    return out
