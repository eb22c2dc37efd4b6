"""The model registry's vocabulary: versions, serving history, shadow runs and drift (issue #17).

What belongs here: a registered model version (its file checksum, the data it was trained on,
its metrics and model card, who registered it and when), the serving history of each model
kind (promotions and rollbacks, each with its actor, time and reason), shadow runs (a candidate
scored beside the serving model on the same traffic), daily score summaries, the rules of
supervision (whoever puts a version into service is not the one who registered it; a rollback
restores the version that served before) and the drift arithmetic (verdict-share deltas and the
population stability index). The :class:`ModelRegistry` port is what the use cases talk to.
Nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from telewarden.core.errors import ConflictError, InvalidInputError
from telewarden.core.ports import AuditRecord

__all__ = [
    "HISTOGRAM_BINS",
    "VERDICTS",
    "DataRef",
    "DayDrift",
    "Disagreement",
    "ModelKind",
    "ModelRegistry",
    "ModelVersion",
    "ServingEvent",
    "ShadowRun",
    "ScoreSummary",
    "check_can_serve",
    "day_drift",
    "histogram",
    "psi",
    "rollback_target",
    "serving_stack",
    "serving_version",
    "ServingAction",
    "serving_audit",
    "shares",
    "version_audit",
]

HISTOGRAM_BINS = 10
"""Score histograms have this many equal bins over [0, 1]."""
VERDICTS = ("ok", "spam", "scam")
"""Verdicts of the SMS content model, in the order shares are printed."""


class ModelKind(StrEnum):
    """Which model a version is of."""

    SMS = "sms"
    """The SMS content model (``sms train`` output, ``.npz``)."""
    NUMBERS = "numbers"
    """The number scorer (``numbers train`` output, gzip JSON)."""

    @classmethod
    def parse(cls, raw: str) -> ModelKind:
        """``sms`` or ``numbers`` (any case); InvalidInputError for anything else.

        Examples
        --------
        >>> ModelKind.parse(" SMS ")
        <ModelKind.SMS: 'sms'>
        """
        try:
            return cls(raw.strip().lower())
        except ValueError:
            raise InvalidInputError(f"model kind must be sms or numbers, not {raw!r}") from None


@dataclass(frozen=True, slots=True)
class DataRef:
    """One part of the data a version was trained on: a set, a file or report ids."""

    name: str
    """A set name (``zh_sms``), a file name (``labelled.tsv``) or ``reports``."""
    rows: int
    """How many rows (messages, numbers, reports) of it were used."""
    ids: str = ""
    """Report or outcome ids when the data came from the store (``1-500,612``)."""


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One registered model file. ``version`` counts from 1 per kind (0 before it is stored)."""

    kind: ModelKind
    version: int
    path: str
    sha256: str
    """SHA-256 of the whole file as registered; the serving paths refuse a file that differs."""
    registered_by: str
    registered_at: dt.datetime
    data: tuple[DataRef, ...] = ()
    metrics: Mapping[str, float] = field(default_factory=dict)
    card: str = ""
    """The model card (Markdown)."""
    note: str = ""


class ServingAction(StrEnum):
    """What changed the serving version."""

    PROMOTE = "promote"
    ROLLBACK = "rollback"


@dataclass(frozen=True, slots=True)
class ServingEvent:
    """One change of the serving version of a kind (``version`` None: the shipped model)."""

    kind: ModelKind
    action: ServingAction
    version: int | None
    previous: int | None
    actor: str
    at: dt.datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Disagreement:
    """One message the candidate judged differently from the serving model."""

    line: int
    text: str
    current: str
    candidate: str
    current_score: float
    candidate_score: float


@dataclass(frozen=True, slots=True)
class ShadowRun:
    """A candidate scored beside the serving model (``current`` None: shipped) on one input."""

    kind: ModelKind
    candidate: int
    current: int | None
    source: str
    actor: str
    at: dt.datetime
    rows: int
    agree: int
    current_verdicts: Mapping[str, int]
    candidate_verdicts: Mapping[str, int]
    disagreements: tuple[Disagreement, ...] = ()
    id: int = 0

    @property
    def agreement(self) -> float:
        """Share of rows both judged alike (1.0 for an empty run).

        Examples
        --------
        >>> import datetime as dt
        >>> ShadowRun(ModelKind.SMS, 2, None, "f", "a", dt.datetime(2026, 1, 1), 4, 3,
        ...           {}, {}).agreement
        0.75
        """
        return self.agree / self.rows if self.rows else 1.0


@dataclass(frozen=True, slots=True)
class ScoreSummary:
    """Verdict counts and a score histogram of one version's scoring on one day."""

    kind: ModelKind
    version: int | None
    day: dt.date
    source: str
    """``shadow`` (a shadow run) or ``classify`` (``sms classify`` with the serving model)."""
    verdicts: Mapping[str, int]
    histogram: tuple[int, ...]

    @property
    def rows(self) -> int:
        """Messages scored."""
        return sum(self.verdicts.values())


def histogram(scores: Sequence[float], bins: int = HISTOGRAM_BINS) -> tuple[int, ...]:
    """Counts of ``scores`` in ``bins`` equal bins over [0, 1] (1.0 in the last bin).

    Examples
    --------
    >>> histogram([0.0, 0.05, 0.5, 1.0], bins=4)
    (2, 0, 1, 1)
    """
    out = [0] * bins
    for s in scores:
        out[min(bins - 1, max(0, int(s * bins)))] += 1
    return tuple(out)


def psi(expected: Sequence[int], actual: Sequence[int], floor: float = 1e-4) -> float:
    """Population stability index of ``actual`` against ``expected`` (counts per bin).

    ``sum((a - e) * ln(a / e))`` over the bins' shares, each share at least ``floor`` so an
    empty bin does not give infinity. Below 0.1 is usually read as stable, 0.1-0.25 as a
    moderate shift and above 0.25 as a large one.

    Examples
    --------
    >>> psi([50, 50], [50, 50])
    0.0
    >>> round(psi([90, 10], [50, 50]), 3)
    0.879
    """
    if len(expected) != len(actual):
        raise InvalidInputError("histograms of different bins")
    e_total, a_total = sum(expected), sum(actual)
    if not e_total or not a_total:
        return 0.0
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        pe = max(e / e_total, floor)
        pa = max(a / a_total, floor)
        total += (pa - pe) * math.log(pa / pe)
    return total


def shares(verdicts: Mapping[str, int]) -> dict[str, float]:
    """Share of each verdict of :data:`VERDICTS` (0 for an empty count).

    Examples
    --------
    >>> shares({"ok": 3, "scam": 1})
    {'ok': 0.75, 'spam': 0.0, 'scam': 0.25}
    """
    total = sum(verdicts.values())
    return {v: (verdicts.get(v, 0) / total if total else 0.0) for v in VERDICTS}


@dataclass(frozen=True, slots=True)
class DayDrift:
    """One day's verdict shares and score distribution against the baseline day."""

    day: dt.date
    rows: int
    shares: Mapping[str, float]
    share_delta: Mapping[str, float]
    """Each verdict's share minus the baseline's (percentage points / 100)."""
    psi: float
    alarms: tuple[str, ...]


def day_drift(
    days: Sequence[ScoreSummary], *, max_share_delta: float = 0.05, max_psi: float = 0.2
) -> list[DayDrift]:
    """Each day against the first one of ``days`` (summaries of one kind and version, merged).

    The alarm is raised on either test: a verdict share that moved by more than
    ``max_share_delta`` (absolute), or a score distribution whose PSI exceeds ``max_psi``.

    Examples
    --------
    >>> d0, d1 = dt.date(2026, 12, 1), dt.date(2026, 12, 2)
    >>> s = [ScoreSummary(ModelKind.SMS, 1, d0, "shadow", {"ok": 90, "scam": 10}, (90, 10)),
    ...      ScoreSummary(ModelKind.SMS, 1, d1, "shadow", {"ok": 70, "scam": 30}, (70, 30))]
    >>> [x.alarms for x in day_drift(s)]
    [(), ('ok share -20.0 points', 'scam share +20.0 points', 'score PSI 0.27')]
    """
    merged: dict[dt.date, tuple[dict[str, int], list[int]]] = {}
    for s in sorted(days, key=lambda x: x.day):
        verdicts, hist = merged.setdefault(s.day, ({}, [0] * len(s.histogram)))
        for v, n in s.verdicts.items():
            verdicts[v] = verdicts.get(v, 0) + n
        for i, n in enumerate(s.histogram):
            hist[i] += n
    if not merged:
        return []
    base_day = min(merged)
    base_shares = shares(merged[base_day][0])
    base_hist = merged[base_day][1]
    out = []
    for day in sorted(merged):
        verdicts, hist = merged[day]
        now = shares(verdicts)
        delta = {v: now[v] - base_shares[v] for v in VERDICTS}
        index = psi(base_hist, hist)
        alarms = [
            f"{v} share {delta[v] * 100:+.1f} points"
            for v in VERDICTS
            if abs(delta[v]) > max_share_delta
        ]
        if index > max_psi:
            alarms.append(f"score PSI {index:.2f}")
        out.append(DayDrift(day, sum(verdicts.values()), now, delta, index, tuple(alarms)))
    return out


def serving_version(events: Sequence[ServingEvent]) -> int | None:
    """The version the newest event put into service (None: the shipped model).

    Examples
    --------
    >>> serving_version([])
    """
    return events[-1].version if events else None


def rollback_target(events: Sequence[ServingEvent]) -> int | None:
    """The version a rollback restores: the one that served before the serving one's promotion.

    ``events`` is the kind's serving history, oldest first. Rollbacks walk back the chain of
    promotions: after promoting 1 then 2, a rollback restores 1 and a second one the shipped
    model (None). ConflictError when the shipped model is serving (nothing to roll back).

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2026, 12, 1)
    >>> def ev(action, v, prev):
    ...     return ServingEvent(ModelKind.SMS, ServingAction(action), v, prev, "s", t, "r")
    >>> h = [ev("promote", 1, None), ev("promote", 2, 1)]
    >>> rollback_target(h)
    1
    >>> rollback_target([*h, ev("rollback", 1, 2)]) is None
    True
    """
    stack = serving_stack(events)
    if not stack:
        raise ConflictError("the shipped model is serving: there is nothing to roll back")
    return stack[-2] if len(stack) > 1 else None


def serving_stack(events: Sequence[ServingEvent]) -> list[int]:
    """The promoted versions still in force, oldest first: a promotion pushes, a rollback pops.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2026, 12, 1)
    >>> p = [ServingEvent(ModelKind.SMS, ServingAction.PROMOTE, v, None, "s", t, "") for v in (1, 2)]
    >>> serving_stack(p)
    [1, 2]
    """
    stack: list[int] = []
    for event in events:
        if event.action is ServingAction.PROMOTE and event.version is not None:
            stack.append(event.version)
        elif event.action is ServingAction.ROLLBACK and stack:
            stack.pop()
    return stack


def check_can_serve(version: ModelVersion, actor: str) -> None:
    """ConflictError when ``actor`` registered ``version`` (four eyes: not one's own model).

    Examples
    --------
    >>> import datetime as dt
    >>> v = ModelVersion(ModelKind.SMS, 1, "m.npz", "ab", "ana", dt.datetime(2026, 12, 1))
    >>> check_can_serve(v, "sup")
    >>> check_can_serve(v, "ana")
    Traceback (most recent call last):
    ...
    telewarden.core.errors.ConflictError: sms version 1 was registered by ana: another supervisor must put it into service
    """  # noqa: E501
    if version.registered_by == actor:
        raise ConflictError(
            f"{version.kind} version {version.version} was registered by {actor}: "
            "another supervisor must put it into service"
        )


def version_audit(version: ModelVersion) -> AuditRecord:
    """The audit record of a registration (shared with the SQL registry)."""
    return AuditRecord(
        version.registered_at,
        version.registered_by,
        "model_version",
        f"{version.kind}:{version.version}",
        "create",
        None,
        {"path": version.path, "sha256": version.sha256, "note": version.note},
    )


def serving_audit(event: ServingEvent) -> AuditRecord:
    """The audit record of a promotion or rollback (shared with the SQL registry)."""
    return AuditRecord(
        event.at,
        event.actor,
        "model_serving",
        str(event.kind),
        str(event.action),
        {"version": event.previous},
        {"version": event.version, "reason": event.reason},
    )


class ModelRegistry(Protocol):
    """Where model versions, their serving history and their shadow runs are kept."""

    def add_version(self, version: ModelVersion) -> ModelVersion:
        """Store ``version`` as the next number of its kind (audited); the stored version."""
        ...

    def get_version(self, kind: ModelKind, version: int) -> ModelVersion:
        """One version; NotFoundError when unknown."""
        ...

    def list_versions(self, kind: ModelKind | None = None) -> list[ModelVersion]:
        """Every version (of ``kind``), oldest first."""
        ...

    def serving_history(self, kind: ModelKind) -> list[ServingEvent]:
        """Promotions and rollbacks of ``kind``, oldest first."""
        ...

    def add_serving_event(self, event: ServingEvent) -> None:
        """Record a promotion or rollback (audited with its actor and reason)."""
        ...

    def add_shadow_run(self, run: ShadowRun) -> int:
        """Store a shadow run; its id (from 1)."""
        ...

    def list_shadow_runs(self, kind: ModelKind, *, limit: int = 20) -> list[ShadowRun]:
        """The newest shadow runs of ``kind`` first."""
        ...

    def add_summary(self, summary: ScoreSummary) -> None:
        """Store one day's verdict counts and score histogram of a version."""
        ...

    def summaries(self, kind: ModelKind, version: int | None) -> list[ScoreSummary]:
        """The summaries of one version of ``kind`` (None: the shipped model), oldest first."""
        ...
