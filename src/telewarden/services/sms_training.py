"""Train SMS models: a carrier's own labelled messages (``sms train``) or the shipped default.

``train_from_file`` reads message content, so it asks the legal gate first. The research sets
behind the shipped model (zh_sms, uci_sms) are read by :func:`load_spam_sets`, which the
evaluation and the release script (``scripts/train_default_sms_model.py``) share. scikit-learn
is imported inside the functions that fit, never at module level.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from telewarden.adapters.files.messages import MessageFormat, detect_format, open_messages
from telewarden.adapters.files.output import refuse_inputs_as_outputs
from telewarden.adapters.files.quarantine import QuarantinedRow, write_rejected
from telewarden.core.errors import InvalidInputError
from telewarden.core.ports import Clock
from telewarden.services.screen_file import default_quarantine_path
from telewarden.services.screening import require_content_allowed

if TYPE_CHECKING:
    from telewarden.core.sms.classifier import SmsModel
    from telewarden.services.context import AppContext

__all__ = [
    "NEGATIVE_LABELS",
    "POSITIVE_LABELS",
    "SpamSets",
    "TrainReport",
    "UpdateReport",
    "fit_full_model",
    "load_spam_sets",
    "spread_sample",
    "train_default_model",
    "train_from_file",
    "update_from_file",
]

POSITIVE_LABELS = frozenset({"1", "spam", "scam", "fraud", "true", "yes", "junk"})
"""Label values read as not-ok (spam or scam), case-insensitive."""
NEGATIVE_LABELS = frozenset({"0", "ham", "ok", "normal", "false", "no", "legit"})
"""Label values read as ok, case-insensitive."""


@dataclass(slots=True)
class TrainReport:
    """What ``train_from_file`` read and fitted; rows_read = used + duplicates + quarantined."""

    source: Path
    output: Path
    used: int = 0
    duplicates: int = 0
    quarantined: int = 0
    threshold: float = 0.0
    duration_s: float = 0.0
    quarantine_path: Path | None = None
    rejected: list[QuarantinedRow] = field(default_factory=list)
    """The quarantined rows themselves (the CLI shows the first few)."""

    @property
    def rows_read(self) -> int:
        """Every data row of the input."""
        return self.used + self.duplicates + self.quarantined


def _save(model: SmsModel, output: Path) -> None:
    """Write the model beside ``output`` and rename it on, so a failed write leaves none."""
    import os

    from telewarden.adapters.sms_model import save_model

    temp = output.with_name(f".{output.name}.{os.getpid()}.tmp.npz")
    try:
        save_model(model, temp)
        os.replace(temp, output)
    finally:
        temp.unlink(missing_ok=True)


def _read_labelled(
    source: Path,
    fmt: MessageFormat,
    label_column: str,
    text_column: str,
    encoding: str | None,
    report: TrainReport,
    quarantine: Path,
) -> tuple[list[str], list[int]]:
    """Deduplicated texts and 0/1 labels of a labelled file; bad rows to ``quarantine``."""
    texts: list[str] = []
    labels: list[int] = []
    seen: set[str] = set()
    with open_messages(source, fmt, text_column, encoding) as table:
        for row in table.rows:
            raw_label = str(row.fields.get(label_column, "")).strip().lower()
            if raw_label not in POSITIVE_LABELS and raw_label not in NEGATIVE_LABELS:
                reason = f"unknown label {raw_label!r}"
                table.rejected.append(QuarantinedRow(row.line, reason, row.fields))
                continue
            text = str(row.fields[text_column])
            if text in seen:
                report.duplicates += 1
                continue
            seen.add(text)
            texts.append(text)
            labels.append(1 if raw_label in POSITIVE_LABELS else 0)
        report.rejected = write_rejected(quarantine, table.rejected)
    report.used, report.quarantined = len(texts), len(report.rejected)
    report.quarantine_path = quarantine if report.rejected else None
    return texts, labels


def train_from_file(
    ctx: AppContext,
    source: Path,
    output: Path,
    *,
    fmt: MessageFormat | None = None,
    label_column: str = "label",
    text_column: str = "text",
    c: float = 2.0,
    quarantine: Path | None = None,
    encoding: str | None = None,
) -> TrainReport:
    """Fit a model on the labelled messages of ``source`` and write it to ``output``.

    Labels are read case-insensitively (:data:`POSITIVE_LABELS` against
    :data:`NEGATIVE_LABELS`); a row with any other label, or one that cannot be read, goes to
    ``quarantine`` (default ``<output stem>.quarantine.csv``) with its line and reason. A text
    seen before is counted as a duplicate and skipped (its first label is kept).

    Raises
    ------
    ConfigurationError
        When the legal gate forbids reading message bodies.
    InvalidInputError
        When ``source`` is missing, empty, lacks a column, or holds no usable row.
    """
    from telewarden.core.sms.classifier import fit_model

    require_content_allowed(ctx, "sms train")
    fmt = detect_format(source, fmt)
    quarantine = quarantine or default_quarantine_path(output)
    refuse_inputs_as_outputs([source], [output, quarantine])
    report = TrainReport(source, output)
    texts, labels = _read_labelled(
        source, fmt, label_column, text_column, encoding, report, quarantine
    )
    if len(set(labels)) < 2:
        raise InvalidInputError(
            f"{source}: training needs both ok and not-ok messages "
            f"({len(texts)} usable rows; labels {sorted(POSITIVE_LABELS | NEGATIVE_LABELS)})"
        )
    started = time.perf_counter()
    meta = {"trained_on": [source.name], "trained_at": _stamp(ctx.clock)}
    model = fit_model(texts, labels, c=c, meta=meta)
    _save(model, output)
    report.threshold = float(model.threshold_)
    report.duration_s = time.perf_counter() - started
    return report


@dataclass(slots=True)
class UpdateReport(TrainReport):
    """What ``update_from_file`` read and changed (rows_read = used + duplicates + quarantined)."""

    base: str = ""
    positives: int = 0
    anchors: int = 0
    anchors_quarantined: int = 0
    weights_changed: int = 0
    new_ngrams: int = 0


def _read_anchors(
    path: Path, fmt: MessageFormat, text_column: str, encoding: str | None, quarantine: Path
) -> tuple[list[str], int]:
    """Distinct texts of an unlabelled traffic sample; unreadable rows to ``quarantine``."""
    seen: dict[str, None] = {}
    with open_messages(path, fmt, text_column, encoding) as table:
        for row in table.rows:
            seen.setdefault(str(row.fields[text_column]), None)
        rejected = write_rejected(quarantine, table.rejected)
    return list(seen), len(rejected)


def update_from_file(
    ctx: AppContext,
    source: Path,
    output: Path,
    *,
    base: str = "shipped",
    anchors: Path | None = None,
    fmt: MessageFormat | None = None,
    label_column: str = "label",
    text_column: str = "text",
    prior: float = 0.3,
    anchor_weight: float = 20.0,
    quarantine: Path | None = None,
    encoding: str | None = None,
) -> UpdateReport:
    """Continue training ``base`` (``shipped`` or a model file) on the labelled ``source``.

    For when the base's training set is not at hand: the weights are corrected by the new
    messages under a prior centred on the base weights, and ``anchors`` (a sample of ordinary
    traffic, unlabelled; strongly advised) are replayed with the base's own verdicts so that
    legitimate traffic keeps its scores (:func:`telewarden.core.sms.update.update_model`).
    Labels and quarantine as in :func:`train_from_file`; one class alone is allowed (reports
    are nearly all fraud). The written model keeps the file format (version and checksum),
    the base's provenance and thresholds, and appends this update to ``meta["updates"]``.

    Raises
    ------
    ConfigurationError
        When the legal gate forbids reading message bodies, or the base is not a model file.
    InvalidInputError
        When an input is missing or holds no usable row.
    """
    from telewarden.adapters.model_files import sha256_of
    from telewarden.adapters.sms_model import load_default_model, load_model
    from telewarden.core.sms.update import update_model

    require_content_allowed(ctx, "sms train")
    fmt = detect_format(source, fmt)
    quarantine = quarantine or default_quarantine_path(output)
    anchor_quarantine = output.with_name(f"{output.stem}.anchors.quarantine.csv")
    inputs = [source] + ([anchors] if anchors is not None else [])
    base_path = None if base == "shipped" else Path(base)
    if base_path is not None:
        inputs.append(base_path)
    refuse_inputs_as_outputs(inputs, [output, quarantine, anchor_quarantine])
    report = UpdateReport(source, output, base=base)
    texts, labels = _read_labelled(
        source, fmt, label_column, text_column, encoding, report, quarantine
    )
    if not texts:
        raise InvalidInputError(f"{source}: no usable labelled row (see {quarantine})")
    anchor_texts: list[str] = []
    if anchors is not None:
        anchor_texts, report.anchors_quarantined = _read_anchors(
            anchors, detect_format(anchors), text_column, encoding, anchor_quarantine
        )
    started = time.perf_counter()
    if base_path is None:
        model = load_default_model()
        base_id = {"base": "shipped", "base_trained_at": model.meta.get("trained_at")}
    else:
        model = load_model(base_path)
        base_id = {"base": base_path.name, "base_sha256": sha256_of([base_path.read_bytes()])}
    meta = {
        **base_id,
        "trained_on": source.name,
        "anchors": anchors.name if anchors is not None else None,
        "at": _stamp(ctx.clock),
    }
    updated = update_model(
        model,
        texts,
        labels,
        anchors=anchor_texts,
        prior=prior,
        anchor_weight=anchor_weight,
        meta=meta,
    )
    _save(updated, output)
    last = updated.meta["updates"][-1]
    report.positives = int(last["n_positive"])
    report.anchors = len(anchor_texts)
    report.weights_changed = int(last["weights_changed"])
    report.new_ngrams = int(last["new_ngrams"])
    report.threshold = float(updated.threshold_)
    report.duration_s = time.perf_counter() - started
    return report


def _stamp(clock: Clock) -> str:
    return clock.now().isoformat(timespec="seconds")


# -- the research sets behind the shipped model --------------------------------------------

T = TypeVar("T")
SpamSets = dict[str, tuple[list[str], list[int]]]
"""Set name -> (deduplicated texts, labels with 1 = spam)."""

ZH_SMS = Path("zh_sms") / "zh_sms.tsv"
UCI_SMS = Path("uci_sms") / "SMSSpamCollection.tsv"


def read_label_text_tsv(path: Path) -> tuple[list[str], list[str]]:
    """Labels and texts of a ``label<TAB>text`` file with a header; extra tabs stay in the text."""
    labels: list[str] = []
    texts: list[str] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader, None)
        for row in reader:
            if row:
                labels.append(row[0])
                texts.append("\t".join(row[1:]))
    return labels, texts


@dataclass(frozen=True, slots=True)
class SpamSetsRead:
    """The deduplicated sets and how many duplicate rows each lost."""

    sets: SpamSets
    duplicates: dict[str, int]


def spread_sample(items: list[T], limit: int | None) -> list[T]:
    """``limit`` items evenly spaced over ``items`` (all of them when ``limit`` is None or larger).

    The research files are often sorted by label, so the first rows would hold one class only.

    Examples
    --------
    >>> spread_sample(list(range(10)), 4)
    [0, 2, 5, 7]
    """
    if limit is None or limit >= len(items):
        return list(items)
    return [items[len(items) * i // limit] for i in range(limit)]


def load_spam_sets(root: Path, *, limit: int | None = None) -> SpamSetsRead:
    """zh_sms and uci_sms from a data folder laid out as ``../shared/data`` is.

    ``limit`` keeps an evenly spaced sample of ``limit`` deduplicated messages of each set
    (:func:`spread_sample`; smoke runs, whose figures are not the published ones).
    """
    from telewarden.core.sms.evaluation import dedupe

    paths = {"zh_sms": root / ZH_SMS, "uci_sms": root / UCI_SMS}
    for path in paths.values():
        if not path.is_file():
            raise InvalidInputError(f"missing {path}: pass --data or set TELEWARDEN_SHARED_DATA")
    sets: SpamSets = {}
    duplicates: dict[str, int] = {}
    for name, path in paths.items():
        raw_labels, raw_texts = read_label_text_tsv(path)
        texts, labels, duplicates[name] = dedupe(raw_texts, raw_labels)
        # zh_sms labels are 0/1, uci_sms labels are ham/spam.
        y = [int(v) for v in labels] if name == "zh_sms" else [int(v == "spam") for v in labels]
        sets[name] = (spread_sample(texts, limit), spread_sample(y, limit))
    return SpamSetsRead(sets, duplicates)


def fit_full_model(sets: SpamSets, **kwargs: Any) -> SmsModel:
    """The shipped protocol fitted on every message of ``sets`` (what ships as the default)."""
    from telewarden.core.sms.classifier import fit_model

    texts = [t for ts, _ in sets.values() for t in ts]
    labels = [y for _, ys in sets.values() for y in ys]
    return fit_model(texts, labels, **kwargs)


SHIPPED_PROVENANCE = {
    "zh_sms": "ZPdesu/Spam-Message-Classifier-sklearn @ bb6d82df (first 10k of the "
    "800k labelled set, minus the holdout); no licence stated, source named",
    "uci_sms": "UCI SMS Spam Collection (Almeida, Gomez Hidalgo, Yamakami, DocEng 2011), CC BY 4.0",
}


@dataclass(frozen=True, slots=True)
class DefaultModelReport:
    """The retrained default model's size, threshold and where it was written."""

    output: Path
    n_train: int
    n_positive: int
    threshold: float
    size_bytes: int
    duration_s: float


def train_default_model(
    root: Path, output: Path, *, clock: Clock, command: str
) -> DefaultModelReport:
    """Fit the shipped model on zh_sms + uci_sms (the only sets whose terms allow it), write it.

    ``command`` is recorded in the model's provenance (the release script names itself).
    """
    started = time.perf_counter()
    sets = load_spam_sets(root).sets
    model = fit_full_model(sets)
    model.meta.update(
        {
            "trained_on": dict(SHIPPED_PROVENANCE),
            "n_by_set": {name: len(texts) for name, (texts, _) in sets.items()},
            "trained_at": _stamp(clock),
            "command": command,
        }
    )
    _save(model, output)
    return DefaultModelReport(
        output,
        int(model.meta["n_train"]),
        int(model.meta["n_positive"]),
        float(model.threshold_),
        output.stat().st_size,
        time.perf_counter() - started,
    )
