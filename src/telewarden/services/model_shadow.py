"""Shadow scoring and drift monitoring of the SMS model (issue #17, the model registry).

``shadow_sms`` scores a candidate version beside the serving model (or the shipped one) on the
same messages, read strictly like ``sms classify`` (bad rows quarantined with their true line),
and records in the registry the agreement, each model's verdict counts and the disagreements
kept for review, with each model's daily score summary. ``classify_summary`` is what
``sms classify`` records of the serving model's own traffic. ``drift`` compares each day's
verdict shares and score distribution with the first day on record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from telewarden.adapters.files.messages import MessageFormat, detect_format, open_messages
from telewarden.adapters.files.output import refuse_inputs_as_outputs
from telewarden.adapters.files.quarantine import QuarantineWriter, check_quarantine_share
from telewarden.core.errors import InvalidInputError
from telewarden.core.registry import (
    HISTOGRAM_BINS,
    VERDICTS,
    DayDrift,
    Disagreement,
    ModelKind,
    ModelRegistry,
    ScoreSummary,
    ShadowRun,
    day_drift,
)
from telewarden.services.model_registry import load_sms_version, serving, serving_sms_model
from telewarden.services.screen_file import default_quarantine_path
from telewarden.services.screening import require_content_allowed

if TYPE_CHECKING:
    from telewarden.core.sms.inspector import SmsClassifier, SmsResult
    from telewarden.services.context import AppContext

__all__ = [
    "KEEP_DISAGREEMENTS",
    "DriftReport",
    "ScoreTally",
    "ShadowComparison",
    "ShadowReport",
    "drift",
    "shadow_classifiers",
    "shadow_sms",
]

KEEP_DISAGREEMENTS = 200
"""Disagreements kept per shadow run for review (the counts cover them all)."""
_BATCH = 2000


@dataclass(slots=True)
class ScoreTally:
    """Verdict counts and a score histogram, filled as messages are scored."""

    verdicts: Counter[str] = field(default_factory=Counter)
    histogram: list[int] = field(default_factory=lambda: [0] * HISTOGRAM_BINS)

    def add(self, verdict: str, score: float) -> None:
        """Count one scored message."""
        self.verdicts[verdict] += 1
        self.histogram[min(HISTOGRAM_BINS - 1, max(0, int(score * HISTOGRAM_BINS)))] += 1

    def summary(
        self, kind: ModelKind, version: int | None, day: dt.date, source: str
    ) -> ScoreSummary:
        """The tally as a registry summary."""
        return ScoreSummary(
            kind,
            version,
            day,
            source,
            {v: self.verdicts.get(v, 0) for v in VERDICTS},
            tuple(self.histogram),
        )


@dataclass(slots=True)
class ShadowReport:
    """A stored shadow run and what the reading set aside."""

    run: ShadowRun
    quarantined: int = 0
    quarantine_path: Path | None = None


class ShadowComparison:
    """The serving model's and a candidate's results on the same messages, compared."""

    def __init__(self, current: int | None, candidate: int, keep: int = KEEP_DISAGREEMENTS) -> None:
        self.current = current
        self.candidate = candidate
        self.keep = keep
        self.tallies = (ScoreTally(), ScoreTally())
        self.rows = self.agree = 0
        self.kept: list[Disagreement] = []

    def add(self, line: int, text: str, a: SmsResult, b: SmsResult) -> None:
        """Count one message scored by both (``a`` serving, ``b`` candidate)."""
        self.rows += 1
        self.tallies[0].add(str(a.verdict), a.score)
        self.tallies[1].add(str(b.verdict), b.score)
        if a.verdict == b.verdict:
            self.agree += 1
        elif len(self.kept) < self.keep:
            self.kept.append(
                Disagreement(
                    line,
                    text[:500],
                    str(a.verdict),
                    str(b.verdict),
                    round(a.score, 6),
                    round(b.score, 6),
                )  # fmt: skip
            )

    def record(
        self, registry: ModelRegistry, *, source: str, actor: str, at: dt.datetime
    ) -> ShadowRun:
        """Store the run and both models' summaries of the day; the stored run."""
        day = at.astimezone(dt.UTC).date()
        current, candidate = (t.summary(ModelKind.SMS, None, day, "shadow") for t in self.tallies)
        run = ShadowRun(
            ModelKind.SMS, self.candidate, self.current, source, actor, at, self.rows, self.agree,
            dict(current.verdicts), dict(candidate.verdicts), tuple(self.kept),
        )  # fmt: skip
        run = dataclasses.replace(run, id=registry.add_shadow_run(run))
        registry.add_summary(dataclasses.replace(current, version=self.current))
        registry.add_summary(dataclasses.replace(candidate, version=self.candidate))
        return run


def shadow_classifiers(
    registry: ModelRegistry, candidate: int
) -> tuple[SmsClassifier, SmsClassifier, ShadowComparison]:
    """The serving and candidate classifiers and an empty comparison of the two.

    InvalidInputError when ``candidate`` is the serving version; NotFoundError when unknown.
    """
    from telewarden.core.sms.inspector import SmsClassifier

    wanted = registry.get_version(ModelKind.SMS, candidate)
    current_model, current_number = serving_sms_model(registry)
    if current_number == candidate:
        raise InvalidInputError(f"sms model version {candidate} is the serving one already")
    return (
        SmsClassifier(current_model),
        SmsClassifier(load_sms_version(wanted)),
        ShadowComparison(current_number, candidate),
    )


def shadow_sms(
    ctx: AppContext,
    registry: ModelRegistry,
    candidate: int,
    source: Path,
    *,
    actor: str,
    fmt: MessageFormat | None = None,
    text_column: str = "text",
    quarantine: Path | None = None,
    encoding: str | None = None,
    max_quarantine_share: float | None = None,
    keep: int = KEEP_DISAGREEMENTS,
) -> ShadowReport:
    """Score ``source`` with SMS version ``candidate`` beside the serving model and record it.

    Raises
    ------
    ConfigurationError
        When the legal gate forbids reading bodies, or a model file fails its checksum.
    NotFoundError
        When the candidate version is unknown.
    InvalidInputError
        When the candidate is the serving version, the input is unreadable, or too much of it
        was quarantined (the run is then not recorded).
    """
    require_content_allowed(ctx, "models shadow")
    current, cand, comparison = shadow_classifiers(registry, candidate)
    comparison.keep = keep
    fmt = detect_format(source, fmt)
    quarantine = quarantine or default_quarantine_path(source)
    refuse_inputs_as_outputs([source], [quarantine])
    rejected = 0
    with (
        open_messages(source, fmt, text_column, encoding) as table,
        QuarantineWriter(quarantine) as bad,
    ):
        batch: list[tuple[int, str]] = []

        def flush() -> None:
            nonlocal rejected
            texts = [t for _, t in batch]
            pairs = zip(current.classify_many(texts), cand.classify_many(texts), strict=True)
            for (line, text), (a, b) in zip(batch, pairs, strict=True):
                comparison.add(line, text, a, b)
            batch.clear()
            bad.write(table.rejected)
            rejected += len(table.rejected)
            table.rejected.clear()

        for row in table.rows:
            batch.append((row.line, str(row.fields[text_column])))
            if len(batch) >= _BATCH:
                flush()
        flush()
    path = quarantine if rejected else None
    check_quarantine_share(comparison.rows + rejected, rejected, max_quarantine_share, path)
    run = comparison.record(registry, source=source.name, actor=actor, at=ctx.clock.now())
    return ShadowReport(run, rejected, path)


@dataclass(frozen=True, slots=True)
class DriftReport:
    """Daily drift of one version against its first day on record."""

    kind: ModelKind
    version: int | None
    max_share_delta: float
    max_psi: float
    days: list[DayDrift]

    @property
    def alarm(self) -> bool:
        """Whether any day raised an alarm."""
        return any(d.alarms for d in self.days)


def drift(
    registry: ModelRegistry,
    kind: ModelKind = ModelKind.SMS,
    *,
    version: int | None = None,
    shipped: bool = False,
    max_share_delta: float = 0.05,
    max_psi: float = 0.2,
) -> DriftReport:
    """Verdict shares and score distributions by day of ``version`` (default: the serving one).

    ``shipped=True`` reads the shipped model's days. Thresholds: a verdict share that moved by
    more than ``max_share_delta`` (absolute) or a PSI above ``max_psi`` raises the day's alarm.
    """
    if not 0 < max_share_delta < 1 or max_psi <= 0:
        raise InvalidInputError("thresholds: 0 < share delta < 1 and PSI > 0")
    if version is None and not shipped:
        current = serving(registry, kind)
        version = current.version if current is not None else None
    elif version is not None:
        registry.get_version(kind, version)
    days = day_drift(
        registry.summaries(kind, version), max_share_delta=max_share_delta, max_psi=max_psi
    )
    return DriftReport(kind, version, max_share_delta, max_psi, days)
