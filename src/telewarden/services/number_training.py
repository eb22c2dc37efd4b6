"""Train the number scorer on a carrier's own records and outcomes, with its model card.

What belongs here: the ``numbers train`` use case. The features come from the carrier's records
(``numbers features``), the labels from case outcomes (``reports outcomes --output``: confirmed =
1, cleared = 0) or any ``msisdn,label`` file. The rows are deduplicated by number before anything
is measured, so that no number is in a training and a test fold at once; the scorer is
cross-validated on that data (pooled out-of-fold flags at each fold's own threshold), trained on
all of it and written in the model file format (version and SHA-256) with a ``meta`` block: what
it was trained on, the figures, the training distribution of its features (for the domain check)
and whether ``detect`` may act on its flags. A Markdown model card is written beside it.
LightGBM is imported inside the functions (seconds to import).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import polars as pl

from telewarden.adapters.files.output import atomic_file, refuse_inputs_as_outputs
from telewarden.core.errors import InvalidInputError
from telewarden.core.features.sichuan import KEY
from telewarden.services.number_domain import profile_of
from telewarden.services.number_inputs import read_edges, read_features, read_frame

if TYPE_CHECKING:
    from telewarden.core.models.number_scorer import NumberScorer

UNLABELLED = ("error", "skip", "legitimate")
"""What to do with numbers of the features file that no outcome labels."""

ACT_MIN_PRECISION = 0.95
"""Cross-validated precision a scorer needs before ``detect --scorer-acts`` acts on its flags.

A flag opens a case that can end in a suspension (with notice and appeal): at 0.95 at most one
flag in twenty falls on an ordinary subscriber, which is the order of the rule detectors' own
precision on the simulator (``docs/evaluation.md``, block eval-numbers)."""

ACT_MIN_FRAUD = 20
"""Fewest fraud numbers in the training data for the precision above to mean anything."""


@dataclass(frozen=True, slots=True)
class TrainingData:
    """The labelled numbers a scorer is trained on, one row each."""

    frame: pl.DataFrame
    labels: npt.NDArray[Any]
    rows_read: int
    """Readable rows of the features file (before deduplication)."""
    duplicates: int
    """Rows dropped because their number came again later in the file."""
    unlabelled: int
    """Numbers without an outcome (skipped or taken as legitimate, per ``unlabelled_as``)."""
    unlabelled_as: str

    @property
    def fraud(self) -> int:
        """Fraud numbers (label 1)."""
        return int(self.labels.sum())


def _labels_table(path: Path) -> pl.DataFrame:
    """``phone_no_m`` and ``label`` (0/1) of a labels file; one label per number."""
    raw = read_frame(path)
    key = KEY if KEY in raw.columns else "msisdn"
    if key not in raw.columns or "label" not in raw.columns:
        raise InvalidInputError(f"{path}: needs {KEY} (or msisdn) and label columns")
    frame = raw.select(pl.col(key).cast(pl.String).alias(KEY), pl.col("label").str.strip_chars())
    bad = frame.filter(~pl.col("label").is_in(["0", "1"]) | pl.col(KEY).is_null())
    if bad.height:
        row = bad.row(0, named=True)
        raise InvalidInputError(
            f"{path}: {bad.height} rows without a number or with a label that is not 0 or 1 "
            f"(the first: number {row[KEY]!r}, label {row['label']!r})"
        )
    frame = frame.with_columns(pl.col("label").cast(pl.Int64)).unique(maintain_order=True)
    conflicts = frame.group_by(KEY).agg(pl.col("label").n_unique()).filter(pl.col("label") > 1)
    if conflicts.height:
        raise InvalidInputError(
            f"{path}: {conflicts.height} numbers have both labels (the first: "
            f"{conflicts[KEY][0]}); keep one outcome per number (`reports outcomes` keeps the "
            "newest)"
        )
    return frame


def training_data(
    features_path: Path, labels: Path | None = None, unlabelled: str = "error"
) -> TrainingData:
    """The features file's numbers, deduplicated (the last row of a number wins), with labels.

    Labels come from ``labels`` (key + ``label``) or the features file's ``label`` column.
    """
    if unlabelled not in UNLABELLED:
        raise InvalidInputError(f"unlabelled numbers: {unlabelled!r} is not one of {UNLABELLED}")
    features = read_features(features_path)
    frame = features.frame
    deduplicated = frame.unique(subset=KEY, keep="last", maintain_order=True)
    duplicates = frame.height - deduplicated.height
    if labels is None:
        if "label" not in deduplicated.columns:
            raise InvalidInputError("no labels: pass --labels or a features file with `label`")
        joined = deduplicated.with_columns(pl.col("label").cast(pl.Int64, strict=False))
        if joined.filter(~pl.col("label").is_in([0, 1])).height:
            raise InvalidInputError(f"{features_path}: label must be 0 or 1 on every row")
    else:
        joined = deduplicated.drop("label", strict=False).join(
            _labels_table(labels), on=KEY, how="left"
        )
    missing = int(joined["label"].null_count())
    if missing and unlabelled == "error":
        raise InvalidInputError(
            f"{missing:,} of {joined.height:,} numbers have no label; pass --unlabelled skip "
            "(train on the labelled ones) or --unlabelled legitimate (numbers without a "
            "confirmed case count as ordinary subscribers)"
        )
    if unlabelled == "skip":
        joined = joined.filter(pl.col("label").is_not_null())
    else:
        joined = joined.with_columns(pl.col("label").fill_null(0))
    y = joined["label"].to_numpy().astype(np.int64)
    if joined.height == 0 or len(np.unique(y)) != 2:
        raise InvalidInputError(
            f"training needs both fraud (1) and legitimate (0) numbers; have {int(y.sum())} "
            f"fraud of {len(y)} labelled"
        )
    return TrainingData(joined.drop("label"), y, frame.height, duplicates, missing, unlabelled)


@dataclass(frozen=True, slots=True)
class CvFigures:
    """Pooled out-of-fold figures of a cross-validation (each fold flags at its own threshold)."""

    folds: int
    seed: int
    numbers: int
    fraud: int
    flagged: int
    true_flagged: int
    auc: float
    brier: float

    @property
    def precision(self) -> float:
        """Flagged numbers that are fraud."""
        return self.true_flagged / max(self.flagged, 1)

    @property
    def recall(self) -> float:
        """Fraud numbers flagged."""
        return self.true_flagged / max(self.fraud, 1)

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / max(p + r, 1e-12)

    @property
    def flag_share(self) -> float:
        """Share of all numbers flagged."""
        return self.flagged / max(self.numbers, 1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, derived figures included."""
        return asdict(self) | {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "flag_share": self.flag_share,
        }


def cross_validate_own(
    data: TrainingData,
    make_scorer: Callable[[], NumberScorer],
    edges: pl.DataFrame | None = None,
    *,
    folds: int = 5,
    seed: int = 0,
) -> CvFigures:
    """Stratified ``folds``-fold CV over the (deduplicated) numbers; pooled figures."""
    from sklearn.metrics import brier_score_loss, roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    y = data.labels
    if min(int(y.sum()), int(len(y) - y.sum())) < folds:
        raise InvalidInputError(
            f"{folds}-fold cross-validation needs at least {folds} numbers of each label "
            f"(have {int(y.sum())} fraud, {int(len(y) - y.sum())} legitimate); pass --folds 0 "
            "to train without measuring"
        )
    p = np.zeros(len(y), dtype=np.float64)
    flags = np.zeros(len(y), dtype=bool)
    outer = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in outer.split(np.zeros(len(y)), y):
        scorer = make_scorer().fit(data.frame[train_idx], y[train_idx], edges)
        known = scorer._known(data.frame[train_idx], y[train_idx]) if scorer.graph_ else None
        p[test_idx] = scorer.predict_proba(data.frame[test_idx], edges, known)
        flags[test_idx] = p[test_idx] >= scorer.threshold_
    return CvFigures(
        folds=folds,
        seed=seed,
        numbers=len(y),
        fraud=int(y.sum()),
        flagged=int(flags.sum()),
        true_flagged=int((flags & (y == 1)).sum()),
        auc=float(roc_auc_score(y, p)),
        brier=float(brier_score_loss(y, p)),
    )


def may_act(cv: CvFigures | None) -> bool:
    """Whether ``detect --scorer-acts`` may act on a scorer with these figures."""
    return cv is not None and cv.fraud >= ACT_MIN_FRAUD and cv.precision >= ACT_MIN_PRECISION


def _sha256(path: Path | None) -> str | None:
    if path is None:
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_meta(
    data: TrainingData,
    scorer: NumberScorer,
    cv: CvFigures | None,
    *,
    sources: dict[str, Path | None],
    source_name: str,
    written_by: str = "telewarden numbers train",
) -> dict[str, Any]:
    """The ``meta`` block of a trained model file."""
    return {
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "trained_on": source_name,
        "written_by": written_by,
        "files": {
            name: {"name": path.name, "sha256": _sha256(path)}
            for name, path in sources.items()
            if path is not None
        },
        "data": {
            "rows_read": data.rows_read,
            "duplicates_dropped": data.duplicates,
            "numbers": len(data.labels),
            "fraud": data.fraud,
            "legitimate": len(data.labels) - data.fraud,
            "unlabelled": data.unlabelled,
            "unlabelled_as": data.unlabelled_as,
        },
        "threshold": scorer.threshold_,
        "rounds": scorer.num_boost_round,
        "forest_trees": scorer.forest_rounds,
        "cv": None if cv is None else cv.to_dict(),
        "act_on_flags": may_act(cv),
        "act_rule": f"cv precision >= {ACT_MIN_PRECISION} with >= {ACT_MIN_FRAUD} fraud numbers",
        "domain": profile_of(data.frame, source_name).to_dict(),
    }


def card_path(output: Path) -> Path:
    """``own.json.gz`` -> ``own.card.md`` beside it."""
    name = output.name
    for suffix in (".json.gz", ".gz", ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return output.with_name(name + ".card.md")


def model_card(meta: dict[str, Any], model_name: str) -> str:
    """The Markdown model card of a model trained by :func:`train_scorer`."""
    data = meta["data"]
    cv = meta["cv"]
    lines = [
        f"# Model card: {model_name}",
        "",
        "Number scorer (LightGBM boosting + random-forest blend over the 55 behaviour features, "
        "Platt-calibrated, F1-best threshold from inner folds; docs/model-card-numbers.md) "
        f"trained on {meta['trained_on']} at {meta['trained_at']} by `{meta['written_by']}`.",
        "",
        "## Data",
        "",
        *(f"- {k}: `{v['name']}` (SHA-256 {v['sha256']})" for k, v in meta["files"].items()),
        f"- rows read {data['rows_read']:,}; rows dropped because their number came again "
        f"later in the file: {data['duplicates_dropped']:,} (the last row of a number counts)",
        f"- numbers {data['numbers']:,}: fraud {data['fraud']:,}, legitimate "
        f"{data['legitimate']:,}",
        f"- numbers without an outcome: {data['unlabelled']:,} (handled as: "
        f"{data['unlabelled_as']})",
        "",
        "## Cross-validated on this data",
        "",
    ]
    if cv is None:
        lines.append("Not measured (`--folds 0`).")
    else:
        lines += [
            f"{cv['folds']}-fold stratified CV over the deduplicated numbers (seed {cv['seed']}), "
            "each fold flagging at its own threshold, figures pooled over the folds:",
            "",
            "| AUC | precision | recall | F1 | flagged | flag share | Brier |",
            "|---|---|---|---|---|---|---|",
            f"| {cv['auc']:.4f} | {cv['precision']:.4f} | {cv['recall']:.4f} | {cv['f1']:.4f} | "
            f"{cv['flagged']} ({cv['true_flagged']} fraud) | {cv['flag_share']:.4%} | "
            f"{cv['brier']:.5f} |",
        ]
    lines += [
        "",
        "## Use",
        "",
        f"- threshold {meta['threshold']:.4f}",
        f"- `detect --scorer-acts` allowed: **{'yes' if meta['act_on_flags'] else 'no'}** "
        f"(rule: {meta['act_rule']})",
        "- the training distribution of the features is stored in the model file; `detect` and "
        "`numbers domain` compare new features with it and withhold flags when they differ",
        "- figures on the carrier's own past outcomes: a new campaign, a new month or a "
        "changed network may behave differently; retrain as outcomes accumulate",
        "",
    ]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class TrainReport:
    """A trained model written to ``output``, and its card."""

    output: Path
    card: Path
    numbers: int
    fraud: int
    duplicates: int
    unlabelled: int
    features: int
    """Model features (55, plus the graph features when edges were given)."""
    threshold: float
    cv: CvFigures | None
    act_on_flags: bool
    seconds: float


def fit_scorer(
    data: TrainingData,
    edges: pl.DataFrame | None = None,
    *,
    rounds: int = 700,
    forest_trees: int = 300,
    folds: int = 5,
    seed: int = 0,
) -> tuple[NumberScorer, CvFigures | None]:
    """Cross-validate (unless ``folds`` is 0), then train on every number."""
    from telewarden.core.models.number_scorer import NumberScorer

    def make() -> NumberScorer:
        return NumberScorer(num_boost_round=rounds, forest_rounds=forest_trees, seed=seed)

    cv = cross_validate_own(data, make, edges, folds=folds, seed=seed) if folds else None
    return make().fit(data.frame, data.labels, edges), cv


def write_model(scorer: NumberScorer, meta: dict[str, Any], output: Path) -> Path:
    """The model file (format 2, checksum over the model and its meta) and its card beside it."""
    from telewarden.adapters.number_model import save_dict

    model = scorer.to_dict()
    model["meta"] = meta
    save_dict(model, output)
    card = card_path(output)
    with atomic_file(card) as handle:
        handle.write(model_card(meta, output.name))
    return card


def train_scorer(
    features_path: Path,
    output: Path,
    *,
    labels: Path | None = None,
    edges: Path | None = None,
    rounds: int = 700,
    forest_trees: int = 300,
    folds: int = 5,
    seed: int = 0,
    unlabelled: str = "error",
) -> TrainReport:
    """Train a calibrated scorer on a features file and its outcomes; save it with its card."""
    started = time.perf_counter()
    refuse_inputs_as_outputs([features_path, labels, edges], [output, card_path(output)])
    data = training_data(features_path, labels, unlabelled)
    edge_frame = read_edges(edges)
    scorer, cv = fit_scorer(
        data, edge_frame, rounds=rounds, forest_trees=forest_trees, folds=folds, seed=seed
    )
    meta = model_meta(
        data,
        scorer,
        cv,
        sources={"features": features_path, "labels": labels, "edges": edges},
        source_name=f"`{features_path.name}`" + (f" with `{labels.name}`" if labels else ""),
    )
    card = write_model(scorer, meta, output)
    return TrainReport(
        output=output,
        card=card,
        numbers=len(data.labels),
        fraud=data.fraud,
        duplicates=data.duplicates,
        unlabelled=data.unlabelled,
        features=len(scorer.feature_names_),
        threshold=scorer.threshold_,
        cv=cv,
        act_on_flags=bool(meta["act_on_flags"]),
        seconds=time.perf_counter() - started,
    )
