"""The model registry: conformance on memory, SQLite and PostgreSQL; register, promote, roll
back, serving loads, shadow scoring and drift."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.memory_registry import MemoryModelRegistry
from telewarden.adapters.storage.registry_sql import SqlModelRegistry
from telewarden.adapters.storage.sql import SqlStore
from telewarden.core.errors import ConfigurationError, ConflictError, InvalidInputError
from telewarden.core.ports import FixedClock
from telewarden.core.registry import DataRef, ModelKind, ScoreSummary
from telewarden.core.screening import PolicySettings
from telewarden.services.audit import verify_audit
from telewarden.services.context import AppContext
from telewarden.services.model_registry import (
    promote,
    register_model,
    rollback,
    serving,
    serving_inspector_factory,
)
from telewarden.services.model_shadow import drift, shadow_sms
from telewarden.services.sms_classify import ClassifierOptions, classify_file
from telewarden.testing.registry import check_model_registry

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
MESSAGES = [
    "text",
    "您的快递丢失，请点击链接办理理赔",
    "see you at eight",
    "明天早上八点开会",
    "【银行】您的账户异常，请登录 icbc-verify.top 解冻",
    "running late sorry",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def sql(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tw.db'}"
    else:
        url = request.getfixturevalue("fresh_pg_url")
    opened = SqlStore.open(url, clock=FixedClock(T0))
    try:
        yield opened
    finally:
        opened.close()


def test_the_sql_registry_passes_the_conformance_suite_and_audits(sql: SqlStore) -> None:
    check_model_registry(lambda: SqlModelRegistry(sql.engine, sql.clock))
    assert {r.action for r in sql.audit_log(entity="model_serving")} == {"promote"}
    assert len(sql.audit_log(entity="model_version")) == 3
    assert verify_audit(sql).ok


def test_the_memory_registry_passes_the_conformance_suite() -> None:
    memory = MemoryStore(clock=FixedClock(T0))
    check_model_registry(lambda: MemoryModelRegistry(memory))
    assert verify_audit(memory).ok


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two SMS model files: the shipped model, and one that flags nearly everything."""
    from telewarden.adapters.sms_model import load_default_model, save_model

    folder = tmp_path_factory.mktemp("models")
    shipped = load_default_model()
    eager = copy.copy(shipped)
    eager.threshold_ = 1e-6
    eager.cjk_threshold_ = 1e-6 if shipped.cjk_threshold_ is not None else None
    eager.meta = {
        **shipped.meta,
        "updates": [
            {
                "trained_on": "labelled.tsv",
                "n_labelled": 500,
                "anchors": "traffic.tsv",
                "n_anchors": 6000,
            }
        ],
    }
    return save_model(shipped, folder / "one.npz"), save_model(eager, folder / "two.npz")


def _registry() -> tuple[MemoryModelRegistry, MemoryStore]:
    store = MemoryStore(clock=FixedClock(T0))
    # The serving paths read message bodies: this store's gate is opened, with a basis.
    store.set_policy(
        PolicySettings(content_inspection=True, content_legal_basis="test: synthetic messages"),
        actor="test",
    )
    return MemoryModelRegistry(store), store


def test_register_records_checksum_data_and_card_and_refuses_a_damaged_file(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    reg, store = _registry()
    one = register_model(reg, store.clock, ModelKind.SMS, models[0], actor="ana",
                         data=[DataRef("zh_sms", 30000)], metrics={"f1": 0.95})  # fmt: skip
    assert one.version == 1 and len(one.sha256) == 64 and one.data == (DataRef("zh_sms", 30000),)
    assert one.metrics == {"f1": 0.95} and one.card.startswith("# sms model one.npz")
    two = register_model(reg, store.clock, ModelKind.SMS, models[1], actor="ana")
    assert two.data == (DataRef("labelled.tsv", 500), DataRef("traffic.tsv", 6000)), "from file"
    broken = tmp_path / "broken.npz"
    broken.write_bytes(models[0].read_bytes()[:-100])
    with pytest.raises(ConfigurationError):
        register_model(reg, store.clock, ModelKind.SMS, broken, actor="ana")
    with pytest.raises(ConfigurationError):
        register_model(reg, store.clock, ModelKind.NUMBERS, models[0], actor="ana")
    with pytest.raises(InvalidInputError):
        register_model(reg, store.clock, ModelKind.SMS, tmp_path / "none.npz", actor="ana")
    assert len(reg.list_versions()) == 2


def test_a_registrant_cannot_promote_their_own_version_and_a_reason_is_required(
    models: tuple[Path, Path],
) -> None:
    reg, store = _registry()
    register_model(reg, store.clock, ModelKind.SMS, models[0], actor="ana")
    with pytest.raises(ConflictError, match="registered by ana"):
        promote(reg, store.clock, ModelKind.SMS, 1, actor="ana", reason="trust me")
    with pytest.raises(InvalidInputError, match="reason"):
        promote(reg, store.clock, ModelKind.SMS, 1, actor="sup", reason="  ")
    assert serving(reg, ModelKind.SMS) is None
    promote(reg, store.clock, ModelKind.SMS, 1, actor="sup", reason="better on zh_sms")
    current = serving(reg, ModelKind.SMS)
    assert current is not None and current.version == 1
    with pytest.raises(ConflictError, match="already serving"):
        promote(reg, store.clock, ModelKind.SMS, 1, actor="sup", reason="again")
    audit = store.audit_log(entity="model_serving")
    assert [(r.actor, r.action, r.after["reason"]) for r in audit] == [
        ("sup", "promote", "better on zh_sms")
    ]


def test_rollback_restores_the_previous_serving_version_then_the_shipped_model(
    models: tuple[Path, Path],
) -> None:
    reg, store = _registry()
    for path in models:
        register_model(reg, store.clock, ModelKind.SMS, path, actor="ana")
    promote(reg, store.clock, ModelKind.SMS, 1, actor="sup", reason="first")
    promote(reg, store.clock, ModelKind.SMS, 2, actor="sup", reason="second")
    event = rollback(reg, store.clock, ModelKind.SMS, actor="sup", reason="too many flags")
    assert (event.version, event.previous) == (1, 2)
    assert serving(reg, ModelKind.SMS).version == 1  # type: ignore[union-attr]
    rollback(reg, store.clock, ModelKind.SMS, actor="sup", reason="back to shipped")
    assert serving(reg, ModelKind.SMS) is None
    with pytest.raises(ConflictError, match="nothing to roll back"):
        rollback(reg, store.clock, ModelKind.SMS, actor="sup", reason="more")


def test_rollback_to_a_version_is_not_done_by_its_registrant(models: tuple[Path, Path]) -> None:
    reg, store = _registry()
    register_model(reg, store.clock, ModelKind.SMS, models[0], actor="ana")
    register_model(reg, store.clock, ModelKind.SMS, models[1], actor="bob")
    promote(reg, store.clock, ModelKind.SMS, 1, actor="bob", reason="first")
    promote(reg, store.clock, ModelKind.SMS, 2, actor="ana", reason="second")
    with pytest.raises(ConflictError):
        rollback(reg, store.clock, ModelKind.SMS, actor="ana", reason="restores ana's own")
    rollback(reg, store.clock, ModelKind.SMS, actor="bob", reason="restores ana's")
    assert serving(reg, ModelKind.SMS).version == 1  # type: ignore[union-attr]


def test_serving_paths_load_the_promoted_version_and_refuse_a_changed_file(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    reg, store = _registry()
    local = tmp_path / "two.npz"
    local.write_bytes(models[1].read_bytes())
    register_model(reg, store.clock, ModelKind.SMS, local, actor="ana")
    source = tmp_path / "msgs.csv"
    source.write_text("\n".join(MESSAGES) + "\n", encoding="utf-8")
    ctx = AppContext(store=store, clock=store.clock, models=reg)
    before = classify_file(ctx, source, tmp_path / "a.csv")
    assert before.model_version is None and before.by_verdict["ok"] >= 3
    promote(reg, store.clock, ModelKind.SMS, 1, actor="sup", reason="try")
    after = classify_file(ctx, source, tmp_path / "b.csv")
    assert after.model_version == 1 and after.by_verdict["ok"] == 0, "the promoted model scored"
    inspector = serving_inspector_factory(reg, poll_s=0.0)()
    assert inspector is not None
    assert inspector.inspect("see you at eight").verdict != "ok", "the promoted model screens"
    rollback(reg, store.clock, ModelKind.SMS, actor="sup", reason="back")
    assert inspector.inspect("see you at eight").verdict == "ok", "the rollback is followed"
    promote(reg, store.clock, ModelKind.SMS, 1, actor="sup", reason="again")
    local.write_bytes(local.read_bytes() + b"x")
    with pytest.raises(ConfigurationError, match="does not match its registered SHA-256"):
        classify_file(ctx, source, tmp_path / "c.csv")
    with pytest.raises(ConfigurationError, match="does not match"):
        inspector.inspect("see you at eight")
    local.unlink()
    with pytest.raises(ConfigurationError, match="missing"):
        classify_file(ctx, source, tmp_path / "d.csv")
    days = reg.summaries(ModelKind.SMS, 1)
    assert [(s.source, s.rows) for s in days] == [("classify", 5)]
    assert [s.rows for s in reg.summaries(ModelKind.SMS, None)] == [5], "shipped days too"


def test_shadow_records_agreement_shares_and_disagreements(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    reg, store = _registry()
    for path in models:
        register_model(reg, store.clock, ModelKind.SMS, path, actor="ana")
    promote(reg, store.clock, ModelKind.SMS, 1, actor="sup", reason="baseline")
    source = tmp_path / "msgs.csv"
    source.write_text("\n".join([*MESSAGES, '"broken,quote']) + "\n", encoding="utf-8")
    ctx = AppContext(store=store, clock=store.clock, models=reg)
    report = shadow_sms(ctx, reg, 2, source, actor="ana")
    run = report.run
    assert (run.rows, run.current, run.candidate, report.quarantined) == (5, 1, 2, 1)
    ok_now = run.current_verdicts["ok"]
    assert ok_now >= 3 and run.candidate_verdicts["ok"] == 0
    assert run.agree == run.rows - ok_now and len(run.disagreements) == ok_now
    first = run.disagreements[0]
    assert first.current == "ok" and first.candidate != "ok"
    assert MESSAGES[first.line - 1] == first.text, "true line of the input"
    assert reg.list_shadow_runs(ModelKind.SMS)[0].id == run.id == 1
    assert [s.source for s in reg.summaries(ModelKind.SMS, 2)] == ["shadow"]
    with pytest.raises(InvalidInputError, match="serving one already"):
        shadow_sms(ctx, reg, 1, source, actor="ana")

    # the same comparison from the batch path: `sms classify --shadow 2`
    report2 = classify_file(ctx, source, tmp_path / "out.csv", options=ClassifierOptions(shadow=2))
    again = report2.shadow_run
    assert again is not None and again.id == 2 and (again.rows, again.agree) == (5, run.agree)
    assert report2.by_verdict["ok"] == ok_now, "the output keeps the serving model's verdicts"
    with pytest.raises(InvalidInputError, match="drop --model"):
        classify_file(ctx, source, tmp_path / "o2.csv",
                      options=ClassifierOptions(model=models[0], shadow=2))  # fmt: skip


def test_drift_alarms_on_a_share_move_or_a_score_shift_only() -> None:
    reg, store = _registry()
    days = [dt.date(2026, 12, d) for d in (1, 2, 3, 4)]
    same = ({"ok": 90, "spam": 5, "scam": 5}, (80, 10, 0, 0, 0, 0, 0, 0, 5, 5))
    counts = [
        same,
        ({"ok": 88, "spam": 6, "scam": 6}, (78, 10, 0, 0, 0, 0, 0, 0, 6, 6)),  # small: no alarm
        ({"ok": 75, "spam": 5, "scam": 20}, (65, 10, 0, 0, 0, 0, 0, 0, 5, 20)),  # scam share
        ({"ok": 90, "spam": 5, "scam": 5}, (10, 80, 0, 0, 0, 0, 0, 0, 5, 5)),  # scores shift
    ]
    for day, (verdicts, hist) in zip(days, counts, strict=True):
        reg.add_summary(ScoreSummary(ModelKind.SMS, None, day, "classify", verdicts, hist))
    report = drift(reg, ModelKind.SMS, shipped=True)
    alarms = [d.alarms for d in report.days]
    assert alarms[0] == () and alarms[1] == ()
    assert any("scam share +15.0 points" in a for a in alarms[2])
    assert alarms[3] and all("PSI" in a for a in alarms[3]), "shares equal, scores moved"
    assert report.alarm
    relaxed = drift(reg, ModelKind.SMS, shipped=True, max_share_delta=0.2, max_psi=5.0)
    assert not relaxed.alarm
    with pytest.raises(InvalidInputError):
        drift(reg, ModelKind.SMS, shipped=True, max_share_delta=0)


def test_rollback_target_survives_a_re_promotion() -> None:
    reg, store = _registry()
    for n in range(3):
        reg.add_version(dataclasses.replace(_fake(n), registered_by="ana"))
    from telewarden.core.registry import ServingAction, ServingEvent, rollback_target

    def ev(action: str, v: int | None, prev: int | None) -> ServingEvent:
        return ServingEvent(ModelKind.SMS, ServingAction(action), v, prev, "sup", T0, "r")

    history = [ev("promote", 1, None), ev("promote", 2, 1), ev("rollback", 1, 2),
               ev("promote", 3, 1)]  # fmt: skip
    assert rollback_target(history) == 1
    assert rollback_target([*history, ev("rollback", 1, 3)]) is None


def _fake(n: int):  # type: ignore[no-untyped-def]
    from telewarden.core.registry import ModelVersion

    return ModelVersion(ModelKind.SMS, 0, f"/m/{n}.npz", "00" * 32, "ana", T0)
