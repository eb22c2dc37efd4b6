"""Conformance suite of the ``ModelRegistry`` port (``telewarden.core.registry``).

Every implementation (``MemoryModelRegistry``, ``SqlModelRegistry`` on SQLite and PostgreSQL,
and any a carrier writes) must pass :func:`check_model_registry`: versions numbered from 1 per
kind with every field kept, NotFoundError for unknown versions (also when one is promoted),
the serving history in order with its actors and reasons, shadow runs newest first with their
disagreements, and daily summaries per version.

Examples
--------
>>> from telewarden.adapters.memory import MemoryStore
>>> from telewarden.adapters.memory_registry import MemoryModelRegistry
>>> check_model_registry(lambda: MemoryModelRegistry(MemoryStore()))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from telewarden.core.errors import NotFoundError
from telewarden.core.registry import (
    DataRef,
    Disagreement,
    ModelKind,
    ModelRegistry,
    ModelVersion,
    ScoreSummary,
    ServingAction,
    ServingEvent,
    ShadowRun,
    rollback_target,
)

__all__ = ["check_model_registry"]

_T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


def _version(kind: ModelKind, path: str) -> ModelVersion:
    return ModelVersion(
        kind,
        0,
        path,
        "ab" * 32,
        "ana",
        _T0,
        (DataRef("labelled.tsv", 500, ""), DataRef("reports", 3, "1-3")),
        {"zh_sms_f1": 0.95},
        "# card\nline two",
        "first",
    )


def check_model_registry(make: Callable[[], ModelRegistry]) -> None:
    """Run every check on a fresh, empty registry made by ``make``."""
    reg = make()
    one = reg.add_version(_version(ModelKind.SMS, "/m/one.npz"))
    two = reg.add_version(_version(ModelKind.SMS, "/m/two.npz"))
    num = reg.add_version(_version(ModelKind.NUMBERS, "/m/n.json.gz"))
    assert (one.version, two.version, num.version) == (1, 2, 1), "versions from 1 per kind"
    got = reg.get_version(ModelKind.SMS, 1)
    assert got == one, "every field kept"
    assert got.data[1] == DataRef("reports", 3, "1-3") and got.metrics == {"zh_sms_f1": 0.95}
    assert got.card == "# card\nline two" and got.registered_at == _T0
    assert [v.version for v in reg.list_versions(ModelKind.SMS)] == [1, 2]
    assert len(reg.list_versions()) == 3
    assert reg.serving_history(ModelKind.SMS) == []
    at = _T0 + dt.timedelta(hours=1)
    reg.add_serving_event(
        ServingEvent(ModelKind.SMS, ServingAction.PROMOTE, 1, None, "sup", at, "better")
    )
    reg.add_serving_event(
        ServingEvent(ModelKind.SMS, ServingAction.PROMOTE, 2, 1, "sup", at, "newer")
    )
    history = reg.serving_history(ModelKind.SMS)
    assert [(e.action, e.version, e.previous, e.reason) for e in history] == [
        (ServingAction.PROMOTE, 1, None, "better"),
        (ServingAction.PROMOTE, 2, 1, "newer"),
    ]
    assert history[0].at == at and history[0].actor == "sup"
    assert rollback_target(history) == 1
    assert reg.serving_history(ModelKind.NUMBERS) == [], "history per kind"
    disagreement = Disagreement(7, "点击链接", "ok", "scam", 0.1, 0.9)
    for n in (1, 2):
        run_id = reg.add_shadow_run(
            ShadowRun(
                ModelKind.SMS,
                2,
                1,
                f"f{n}.tsv",
                "ana",
                at,
                10,
                9,
                {"ok": 10},
                {"ok": 9, "scam": 1},
                (disagreement,),
            )  # fmt: skip
        )
        assert run_id == n, "shadow-run ids from 1"
    runs = reg.list_shadow_runs(ModelKind.SMS)
    assert [r.source for r in runs] == ["f2.tsv", "f1.tsv"], "newest first"
    assert runs[0].disagreements == (disagreement,) and runs[0].candidate_verdicts["scam"] == 1
    assert runs[0].agreement == 0.9 and runs[0].current == 1
    assert reg.list_shadow_runs(ModelKind.NUMBERS) == []
    day = dt.date(2026, 12, 2)
    reg.add_summary(ScoreSummary(ModelKind.SMS, 2, day, "shadow", {"ok": 2}, (2, 0)))
    reg.add_summary(ScoreSummary(ModelKind.SMS, None, day, "shadow", {"ok": 1}, (1, 0)))
    reg.add_summary(ScoreSummary(ModelKind.SMS, 2, day - dt.timedelta(days=1), "classify",
                                 {"ok": 1, "scam": 1}, (1, 1)))  # fmt: skip
    mine = reg.summaries(ModelKind.SMS, 2)
    assert [(s.day.day, s.source, s.rows) for s in mine] == [(1, "classify", 2), (2, "shadow", 2)]
    assert mine[0].histogram == (1, 1)
    assert [s.rows for s in reg.summaries(ModelKind.SMS, None)] == [1], "None is the shipped"
    for action in (
        lambda: reg.get_version(ModelKind.SMS, 9),
        lambda: reg.add_serving_event(
            ServingEvent(ModelKind.NUMBERS, ServingAction.PROMOTE, 5, None, "s", at, "")
        ),
    ):
        try:
            action()
        except NotFoundError:
            continue
        raise AssertionError("an unknown version must raise NotFoundError")
