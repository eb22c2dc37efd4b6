"""Classify a file of SMS bodies, or explain the verdict on one: the ``sms classify|explain`` use cases.

Both read message content, so both ask the legal gate first
(:func:`telewarden.services.screening.require_content_allowed`: the stored policy and the
process gate). The model code pulls in scikit-learn and SciPy, which take seconds to import;
it is imported inside the functions that score, never at module level.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from telewarden.adapters.files.messages import (
    MessageFormat,
    MessageRow,
    MessageWriter,
    count_data_lines,
    detect_format,
    open_messages,
    replace_atomically,
)
from telewarden.adapters.files.output import refuse_inputs_as_outputs
from telewarden.adapters.files.quarantine import QuarantineWriter, check_quarantine_share
from telewarden.core.errors import InvalidInputError
from telewarden.services.screen_file import default_quarantine_path
from telewarden.services.screening import require_content_allowed

if TYPE_CHECKING:
    from telewarden.core.registry import ShadowRun
    from telewarden.core.sms.classifier import SmsModel
    from telewarden.core.sms.inspector import SmsClassifier, SmsResult
    from telewarden.services.context import AppContext
    from telewarden.services.model_shadow import ScoreTally, ShadowComparison

__all__ = [
    "ClassifierOptions",
    "ClassifyReport",
    "ExplainReport",
    "build_classifier",
    "classify_file",
    "explain_message",
]

BATCH_ROWS = 2000
"""Messages scored per call of ``classify_many`` (vectorised scoring, bounded memory)."""

MEMO_TEXTS = 20_000
"""Distinct bodies whose verdict columns a run remembers across batches (a campaign sends one
body to many recipients through a whole file); the memo starts afresh when full."""

RESULT_COLUMNS = ("verdict", "score", "fraud_types", "indicators")
"""Columns ``classify_file`` adds to every row."""


@dataclass(frozen=True, slots=True)
class ClassifierOptions:
    """Which model and look-ups the classifier uses."""

    model: Path | None = None
    """A model file written by ``sms train``; None uses the shipped model."""
    shorteners: Path | None = None
    """A file with one URL-shortener host per line; None keeps the built-in list."""
    numbers: bool = True
    """Classify phone numbers in messages with the number intelligence (origin, kind)."""
    shadow: int | None = None
    """A registered SMS version scored beside the serving model on the same rows (recorded as
    a shadow run); the output keeps the serving model's verdicts."""


def _shortener_hosts(path: Path) -> frozenset[str]:
    if not path.is_file():
        raise InvalidInputError(f"no such shortener list: {path}")
    hosts = [ln.strip().lower() for ln in path.read_text(encoding="utf-8").splitlines()]
    return frozenset(h for h in hosts if h and not h.startswith("#"))


def build_classifier(options: ClassifierOptions, model: SmsModel | None = None) -> SmsClassifier:
    """The SMS classifier for ``options`` (``model``, else the model file or the shipped model)."""
    from telewarden.adapters.sms_model import load_default_model, load_model
    from telewarden.core.numbers import NumberIntel
    from telewarden.core.sms.indicators import IndicatorExtractor
    from telewarden.core.sms.inspector import SmsClassifier

    if model is None:
        model = load_model(options.model) if options.model else load_default_model()
    intel = NumberIntel() if options.numbers else None
    extractor = (
        IndicatorExtractor(shorteners=_shortener_hosts(options.shorteners), numbers=intel)
        if options.shorteners is not None
        else IndicatorExtractor(numbers=intel)
    )
    return SmsClassifier(model, extractor=extractor)


@dataclass(slots=True)
class ClassifyReport:
    """What ``classify_file`` read, wrote and set aside; rows_read = accepted + quarantined."""

    source: Path
    output: Path
    format: MessageFormat
    accepted: int = 0
    quarantined: int = 0
    by_verdict: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0
    quarantine_path: Path | None = None
    model_version: int | None = None
    """The registry's serving version that scored the file (None: shipped or ``--model``)."""
    shadow_run: ShadowRun | None = None
    """The shadow run recorded when ``ClassifierOptions.shadow`` named a candidate."""

    @property
    def rows_read(self) -> int:
        """Every data row of the input, used or quarantined."""
        return self.accepted + self.quarantined


_JSON = json.JSONEncoder(ensure_ascii=False).encode
"""``json.dumps(..., ensure_ascii=False)`` without building a new encoder for every message."""


def _result_columns(result: SmsResult) -> dict[str, object]:
    indicators = result.indicators
    return {
        "verdict": str(result.verdict),
        "score": round(result.score, 6),
        "fraud_types": ";".join(t.code for t in result.fraud_types),
        # Most messages carry no indicator; "[]" is what json.dumps writes for them.
        "indicators": _JSON([i.to_dict() for i in indicators]) if indicators else "[]",
    }


def classify_file(
    ctx: AppContext,
    source: Path,
    output: Path,
    *,
    fmt: MessageFormat | None = None,
    text_column: str = "text",
    options: ClassifierOptions | None = None,
    quarantine: Path | None = None,
    on_total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    encoding: str | None = None,
    max_quarantine_share: float | None = None,
) -> ClassifyReport:
    """Write every usable row of ``source`` to ``output`` with verdict, score, types, indicators.

    The output keeps the input's columns and format; it is written beside ``output`` and
    renamed onto it at the end, so a failed run leaves no half-written file. Rows that cannot
    be read go to ``quarantine`` (default :func:`default_quarantine_path`) with their line and
    reason; no quarantine file appears when every row was good.

    Raises
    ------
    ConfigurationError
        When the legal gate forbids reading message bodies.
    InvalidInputError
        When ``source`` is missing, empty, not in ``encoding`` (default UTF-8) or lacks
        ``text_column``; when an output is the input; when every row, or more than
        ``max_quarantine_share`` of them, was quarantined (the output stays written).
    """
    require_content_allowed(ctx, "sms classify")
    fmt = detect_format(source, fmt)
    quarantine = quarantine or default_quarantine_path(output)
    refuse_inputs_as_outputs([source], [output, quarantine])
    report = ClassifyReport(source, output, fmt)
    step = progress or (lambda _rows: None)
    options = options or ClassifierOptions()
    with open_messages(source, fmt, text_column, encoding) as table:
        served, tally = _served_model(ctx, options)
        clf = build_classifier(options, served[0] if served else None)
        shadow = _shadow(ctx, options)
        if on_total is not None:
            on_total(count_data_lines(source, fmt))
        started = time.perf_counter()
        verdicts: Counter[str] = Counter()
        with replace_atomically(output) as out, QuarantineWriter(quarantine) as bad:
            writer = MessageWriter(out, fmt, table.header, RESULT_COLUMNS)
            batch: list[MessageRow] = []

            memo: dict[str, tuple[str, dict[str, object], float]] = {}

            def flush() -> None:
                texts = [row.fields[text_column] for row in batch]
                # Each distinct body is classified and formatted once per run (while the memo
                # holds it): every step is a function of the text alone.
                known = {t: memo[t] for t in texts if t in memo}
                todo = [t for t in dict.fromkeys(texts) if t not in known]
                if todo:
                    if len(memo) + len(todo) > MEMO_TEXTS:
                        memo.clear()
                    for text, result in zip(todo, clf.classify_many(todo), strict=True):
                        known[text] = memo[text] = (
                            str(result.verdict),
                            _result_columns(result),
                            result.score,
                        )
                if shadow is not None and batch:
                    served = clf.classify_many(texts)
                    for row, a, b in zip(
                        batch, served, shadow[0].classify_many(texts), strict=True
                    ):
                        shadow[1].add(row.line, row.fields[text_column], a, b)
                for row, text in zip(batch, texts, strict=True):
                    verdict, columns, score = known[text]
                    verdicts[verdict] += 1
                    if tally is not None:
                        tally.add(verdict, score)
                    writer.write(row.fields, columns)
                report.accepted += len(batch)
                bad.write(table.rejected)
                report.quarantined += len(table.rejected)
                step(len(batch) + len(table.rejected))
                batch.clear()
                table.rejected.clear()

            for row in table.rows:
                batch.append(row)
                if len(batch) >= BATCH_ROWS:
                    flush()
            flush()
    report.duration_s = time.perf_counter() - started
    if ctx.models is not None and served is not None and tally is not None and tally.verdicts:
        from telewarden.core.registry import ModelKind

        day = ctx.clock.now().astimezone(dt.UTC).date()
        ctx.models.add_summary(tally.summary(ModelKind.SMS, served[1], day, "classify"))
        report.model_version = served[1]
    if ctx.models is not None and shadow is not None:
        who = "sms classify"
        report.shadow_run = shadow[1].record(
            ctx.models, source=source.name, actor=who, at=ctx.clock.now()
        )
    report.by_verdict = {v: verdicts.get(v, 0) for v in ("ok", "spam", "scam")}
    report.quarantine_path = quarantine if report.quarantined else None
    check_quarantine_share(
        report.accepted + report.quarantined,
        report.quarantined,
        max_quarantine_share,
        report.quarantine_path,
    )
    return report


def _served_model(
    ctx: AppContext, options: ClassifierOptions
) -> tuple[tuple[SmsModel, int | None] | None, ScoreTally | None]:
    """The registry's serving model and a tally for drift, when no ``--model`` was named."""
    if options.model is not None or ctx.models is None:
        return None, None
    from telewarden.services.model_registry import serving_sms_model
    from telewarden.services.model_shadow import ScoreTally

    return serving_sms_model(ctx.models), ScoreTally()


def _shadow(
    ctx: AppContext, options: ClassifierOptions
) -> tuple[SmsClassifier, ShadowComparison] | None:
    """The candidate classifier and its comparison when ``options.shadow`` names one."""
    if options.shadow is None:
        return None
    if options.model is not None or ctx.models is None:
        raise InvalidInputError("--shadow compares with the registry's serving model: drop --model")
    from telewarden.services.model_shadow import shadow_classifiers

    _, candidate, comparison = shadow_classifiers(ctx.models, options.shadow)
    return candidate, comparison


@dataclass(frozen=True, slots=True)
class ExplainReport:
    """The verdict on one message with its reasoning, and the scam rule it was judged by."""

    result: SmsResult
    scam_with_score: float
    """Scam evidence needed when the model score reaches its threshold."""
    scam_alone: float
    """Scam evidence needed, with a brand or risky indicator, whatever the score."""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (the result's own form, as ``sms explain --json`` has always printed)."""
        return self.result.to_dict()


def explain_message(
    ctx: AppContext, text: str, options: ClassifierOptions | None = None
) -> ExplainReport:
    """Classify ``text`` and attach the indicators, cues, fraud types and n-grams behind it.

    Raises
    ------
    ConfigurationError
        When the legal gate forbids reading message bodies.
    """
    require_content_allowed(ctx, "sms explain")
    options = options or ClassifierOptions()
    served, _ = _served_model(ctx, options)
    clf = build_classifier(options, served[0] if served else None)
    return ExplainReport(clf.explain(text), clf.rule.with_score, clf.rule.alone)
